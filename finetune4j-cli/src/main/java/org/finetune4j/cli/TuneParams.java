package org.finetune4j.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.finetune4j.tune.Distribution;
import org.finetune4j.tune.SearchSpace;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * How a study's parameter names become {@code train} options. Names are Hugging Face TrainingArguments names
 * where the concept is the same; where train's option is called otherwise, {@link #RENAMED} says so; any other
 * name is a train option written in snake_case ({@code warmup_ratio} is {@code --warmup-ratio},
 * {@code layerwise_lr_decay} is {@code --layerwise-lr-decay}).
 */
final class TuneParams {
    /** TrainingArguments names whose train option has another name. */
    static final Map<String, String> RENAMED = Map.of(
            "num_train_epochs", "--epochs",
            "per_device_train_batch_size", "--batch-size",
            "per_device_eval_batch_size", "--eval-batch-size",
            "lr_scheduler_type", "--lr-scheduler",
            "label_smoothing_factor", "--label-smoothing");
    /** Train options a study sets for each trial itself, or that would make trials incomparable. */
    static final Set<String> NOT_SEARCHABLE = Set.of("--output", "--overwrite", "--resume-from-checkpoint", "--quiet",
            "--help", "--version", "--train-on-validation", "--train", "--validation", "--test", "--split");

    private final CommandSpec train = new CommandLine(new TrainCommand()).getCommandSpec();

    /** The train option a space name stands for; an unknown name is refused with the valid ones. */
    OptionSpec option(String name) {
        String flag = RENAMED.getOrDefault(name, "--" + name.replace('_', '-'));
        OptionSpec o = train.findOption(flag);
        boolean renamedAway = !RENAMED.containsKey(name) && RENAMED.containsValue(flag);
        if (o == null || NOT_SEARCHABLE.contains(o.longestName()) || !name.matches("[a-z0-9_]+") || renamedAway) {
            throw new IllegalArgumentException("--space: unknown parameter \"" + name + "\". Searchable names: "
                    + String.join(", ", validNames()));
        }
        return o;
    }

    /** Every name a space may use, sorted. */
    Set<String> validNames() {
        Set<String> names = new TreeSet<>(RENAMED.keySet());
        for (OptionSpec o : train.options()) {
            String flag = o.longestName();
            if (flag.startsWith("--") && !NOT_SEARCHABLE.contains(flag) && !RENAMED.containsValue(flag)) {
                names.add(flag.substring(2).replace('-', '_'));
            }
        }
        return names;
    }

    /**
     * Refuses a space that names an unknown option, one also given as a fixed option ({@code fixed}: the train
     * arguments every trial shares), or a distribution the option cannot take (fractions for an integer option).
     */
    void check(SearchSpace space, List<String> fixed) {
        for (Map.Entry<String, Distribution> e : space.params().entrySet()) {
            OptionSpec o = option(e.getKey());
            String flag = o.longestName();
            String negated = o.negatable() ? train.negatableOptionTransformer().makeNegative(flag, train) : null;
            if (fixed.contains(flag) || negated != null && fixed.contains(negated)) {
                throw new IllegalArgumentException("--space " + e.getKey() + " is also given as the fixed option " + flag
                        + ": a parameter is either searched or fixed. Drop one of them.");
            }
            Class<?> type = o.type();
            boolean integral = type == int.class || type == Integer.class || type == long.class || type == Long.class;
            Distribution d = e.getValue();
            if (integral && (d instanceof Distribution.Uniform || d instanceof Distribution.LogUniform)) {
                throw new IllegalArgumentException("--space " + e.getKey() + ": " + flag + " takes whole numbers; search it"
                        + " with int(a,b) or choice(...), not a float range");
            }
            boolean flagOnly = o.arity().max() == 0;
            if (flagOnly && !(d instanceof Distribution.Categorical c && c.choices().stream().allMatch(v -> v instanceof Boolean))) {
                throw new IllegalArgumentException("--space " + e.getKey() + ": " + flag + " is on or off; search it with"
                        + " choice(true,false)");
            }
        }
    }

    /** A trial's parameters as train arguments. */
    List<String> args(Map<String, Object> params) {
        List<String> args = new ArrayList<>();
        params.forEach((name, value) -> {
            OptionSpec o = option(name);
            String flag = o.longestName();
            if (o.arity().max() == 0) {
                if (Boolean.TRUE.equals(value)) {
                    args.add(flag);
                } else if (o.negatable()) {
                    args.add(train.negatableOptionTransformer().makeNegative(flag, train));
                }
                return;
            }
            args.add(flag);
            Class<?> type = o.type();
            boolean integral = type == int.class || type == Integer.class || type == long.class || type == Long.class;
            args.add(integral && value instanceof Double d && d == Math.rint(d) ? Long.toString(d.longValue()) : String.valueOf(value));
        });
        return args;
    }
}
