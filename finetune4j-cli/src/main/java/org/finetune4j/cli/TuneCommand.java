package org.finetune4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.finetune4j.api.ChildJvm;
import org.finetune4j.tune.ChildJvmTrials;
import org.finetune4j.tune.Direction;
import org.finetune4j.tune.GridSampler;
import org.finetune4j.tune.Samplers;
import org.finetune4j.tune.SearchSpace;
import org.finetune4j.tune.StudyResult;
import org.finetune4j.tune.StudySettings;
import org.finetune4j.tune.TrialRecord;
import org.finetune4j.tune.Tuning;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * Searches training hyperparameters: trials of {@code train}, each in its own JVM, with parameters a sampler
 * chooses from {@code --space}, pruned on their evaluations, recorded in a resumable {@code study.jsonl}.
 */
@Command(name = "tune", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        defaultValueProvider = TrainingDefaults.class,
        description = {"Search training hyperparameters: run `train` trials with sampled parameters and keep the best.",
                "Each trial runs in its own JVM into <output>/trial-<n>. Writes study.jsonl (resumable with --resume),"
                        + " tune.md, tune.json and report.html into --output. Every train option not searched is passed"
                        + " to every trial unchanged."})
final class TuneCommand implements Callable<Integer> {
    @Option(names = "--space", description = "A searched parameter: name=distribution, with uniform(a,b), loguniform(a,b),"
            + " int(a,b[,step|log]) or choice(x,y,...); names as TrainingArguments (learning_rate, num_train_epochs,"
            + " per_device_train_batch_size, warmup_ratio, ...) or any train option in snake_case. Repeatable.")
    List<String> space = new ArrayList<>();

    @Option(names = "--space-file", description = "The search space as a JSON or YAML map of name to distribution.")
    Path spaceFile;

    @Option(names = "--trials", defaultValue = "20", description = "Trials in all (failed and pruned ones count; grid: at"
            + " most the grid's size).")
    int trials;

    @Option(names = "--timeout", description = "Start no trial after this long, e.g. 90m, 3600s, 2h (running trials finish).")
    String timeout;

    @Option(names = "--metric", description = "The objective: a key of eval_results.json, e.g. eval_f1, eval_accuracy,"
            + " eval_macro_f1 (default: eval_ + --metric-for-best-model, so eval_loss). Given without"
            + " --metric-for-best-model, it is also what each trial picks its best checkpoint by.")
    String metric;

    @Option(names = "--direction", description = "maximize or minimize (default: minimize a *loss, maximize anything else).")
    String direction;

    @Option(names = "--sampler", defaultValue = "tpe", description = "random, grid or tpe.")
    String sampler;

    @Option(names = "--sampler-seed", description = "The sampler's seed (default: --seed).")
    Long samplerSeed;

    @Option(names = "--pruner", defaultValue = "none", description = "none, median or asha: stop trials whose evaluations"
            + " (each epoch, or each --eval-steps with --eval-strategy steps) fall behind the others'.")
    String pruner;

    @Option(names = "--parallel", defaultValue = "1", description = "Trials at once; each gets max(1, cores / parallel)"
            + " PyTorch threads.")
    int parallel;

    @Option(names = "--keep-all", description = "Keep every trial's weights (default: only the best trial's).")
    boolean keepAll;

    @Option(names = "--refit", description = "Retrain the best parameters on training + validation data into <output>/refit.")
    boolean refit;

    @Option(names = "--strategy", description = "full, frozen, partial or lora (passed to every trial).")
    String strategy;

    @Mixin
    DataSourceOptions source = new DataSourceOptions();

    @Mixin
    TrainingOptions training = new TrainingOptions();

    @Option(names = "--output", description = "The study directory (study.jsonl, tune.md, trial-<n>/ ...).")
    Path output;

    @Option(names = "--overwrite", description = "Replace an earlier study in --output.")
    boolean overwrite;

    @Option(names = "--resume", description = "Continue the study in this directory, with its recorded settings.")
    Path resume;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        ParseResult parsed = spec.commandLine().getParseResult();
        List<String> shared = new ArrayList<>(CompareCommand.sharedArguments(parsed, spec));
        if (parsed.hasMatchedOption("--strategy")) {
            shared.addAll(0, List.of("--strategy", strategy));
        }
        TuneParams names = new TuneParams();
        Path dir = studyDir();
        StudySettings settings = resume != null ? resumedSettings(parsed, shared) : newSettings(shared);
        names.check(settings.space(), settings.trainArgs());
        Tuning.Spec run = new Tuning.Spec(settings, dir, overwrite, resume != null, parallel, parseTimeout(timeout), keepAll,
                Tuning.DEFAULT_POLL_MILLIS);
        ChildJvmTrials runner = new ChildJvmTrials(Main.class.getName(), (params, runDir) -> trainArgs(settings.trainArgs(),
                names.args(params), runDir), dir.resolve("logs"), parallel);
        StudyResult result = Tuning.run(run, Samplers.sampler(settings.sampler(), settings.samplerSeed(), settings.space()),
                Samplers.pruner(settings.pruner()), runner, System.err::println);
        if (refit && result.best() != null) {
            result = refit(result, names);
        }
        System.out.println(result.toMarkdown());
        System.err.println("tune.md, tune.json and report.html in " + dir);
        return result.best() == null ? 1 : 0;
    }

    private Path studyDir() {
        if (resume != null) {
            if (output != null && !output.toAbsolutePath().normalize().equals(resume.toAbsolutePath().normalize())) {
                throw new UserError("--resume " + resume + " continues the study in its own directory; drop --output "
                        + output);
            }
            if (overwrite) {
                throw new UserError("--resume and --overwrite contradict each other: choose one");
            }
            return resume;
        }
        if (output == null) {
            throw new UserError("tune needs --output DIR for the study (or --resume DIR to continue one)");
        }
        return output;
    }

    private StudySettings newSettings(List<String> shared) {
        SearchSpace s = space();
        if (s == null) {
            throw new UserError("tune needs a search space: --space name=distribution (repeatable) or --space-file FILE");
        }
        String m = metric != null ? metric : defaultMetric();
        Direction d = direction != null ? parseDirection(direction) : StudySettings.defaultDirection(m);
        long seed = samplerSeed != null ? samplerSeed : training.step.seed;
        int n = gridCapped(sampler, s, seed, trials);
        if (metric != null && !shared.contains("--metric-for-best-model")) {
            // Each trial keeps (and reports) its checkpoint best by the study's metric, not by its loss.
            shared = new ArrayList<>(shared);
            shared.addAll(List.of("--metric-for-best-model", m.startsWith("eval_") ? m.substring("eval_".length()) : m));
        }
        if (s.params().containsKey("seed") && !shared.contains("--split-seed")) {
            // The seed also seeds the --split: fixed here, every trial validates on the same rows.
            shared = new ArrayList<>(shared);
            shared.addAll(List.of("--split-seed", Long.toString(training.step.seed)));
        }
        return new StudySettings(s, m, d, sampler, seed, pruner, n, shared);
    }

    /**
     * The recorded settings, with any given here in their place: a resume that names a setting other than the
     * recorded one is refused by {@link Tuning} (only --trials may change, to extend or shorten the study).
     */
    private StudySettings resumedSettings(ParseResult parsed, List<String> shared) {
        StudySettings r = Tuning.readSettings(resume);
        SearchSpace s = space();
        return new StudySettings(s != null ? s : r.space(), metric != null ? metric : r.metric(),
                direction != null ? parseDirection(direction) : r.direction(),
                parsed.hasMatchedOption("--sampler") ? sampler : r.sampler(), samplerSeed != null ? samplerSeed : r.samplerSeed(),
                parsed.hasMatchedOption("--pruner") ? pruner : r.pruner(),
                parsed.hasMatchedOption("--trials") ? gridCapped(r.sampler(), r.space(), r.samplerSeed(), trials) : r.trials(),
                shared.isEmpty() ? r.trainArgs() : shared);
    }

    /** A grid study runs each grid point once: {@code trials} at most the grid's size. */
    private static int gridCapped(String sampler, SearchSpace space, long seed, int trials) {
        if (!sampler.equals("grid")) {
            return trials;
        }
        int size = new GridSampler(space, seed).size();
        if (trials > size) {
            System.err.println("--trials " + trials + " exceeds the grid's " + size + " points: running " + size);
            return size;
        }
        return trials;
    }

    private SearchSpace space() {
        if (spaceFile != null && !space.isEmpty()) {
            throw new UserError("give the search space either with --space or with --space-file, not both");
        }
        if (spaceFile != null) {
            try {
                return SearchSpace.read(spaceFile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read --space-file " + spaceFile + ": " + e.getMessage(), e);
            }
        }
        return space.isEmpty() ? null : SearchSpace.parse(space);
    }

    /** eval_ + --metric-for-best-model: the study optimises what each trial's best checkpoint is chosen by. */
    private String defaultMetric() {
        String best = training.bestMetric;
        return best.startsWith("eval_") ? best : "eval_" + best;
    }

    private static Direction parseDirection(String text) {
        try {
            return Direction.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UserError("--direction " + text + ": choose maximize or minimize");
        }
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(s|m|h)?");

    /** 3600s, 90m, 2h, or plain seconds. */
    static Duration parseTimeout(String text) {
        if (text == null) {
            return null;
        }
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new UserError("--timeout " + text + ": write a duration such as 90m, 3600s or 2h");
        }
        double unit = m.group(2) == null || m.group(2).equals("s") ? 1 : m.group(2).equals("m") ? 60 : 3600;
        return Duration.ofMillis(Math.round(Double.parseDouble(m.group(1)) * unit * 1000));
    }

    private static List<String> trainArgs(List<String> shared, List<String> params, Path runDir) {
        List<String> args = new ArrayList<>(List.of("train", "--output", runDir.toString(), "--quiet"));
        args.addAll(shared);
        args.addAll(params);
        return args;
    }

    /** Options that choose or judge checkpoints on validation data, which a refit has none of. */
    private static final List<String> VALIDATION_OPTIONS = List.of("--eval-strategy", "--eval-steps", "--metric-for-best-model",
            "--load-best-model-at-end", "--no-load-best-model-at-end", "--early-stopping-patience",
            "--early-stopping-threshold", "--tune-threshold", "--no-tune-threshold");

    /**
     * Trains the best trial's parameters on the training and validation parts together, in the foreground child
     * JVM, into {@code <output>/refit}: same data, split and test part as the trials, no evaluation on validation.
     */
    private StudyResult refit(StudyResult result, TuneParams names) {
        TrialRecord best = result.best();
        Path dir = result.output().resolve("refit");
        List<String> shared = new ArrayList<>();
        List<String> fixed = result.settings().trainArgs();
        for (int i = 0; i < fixed.size(); i++) {
            String a = fixed.get(i);
            boolean flag = i + 1 >= fixed.size() || fixed.get(i + 1).startsWith("--");
            if (VALIDATION_OPTIONS.contains(a)) {
                i += flag ? 0 : 1;
                continue;
            }
            shared.add(a);
        }
        List<String> args = trainArgs(shared, names.args(best.params()), dir);
        args.addAll(List.of("--overwrite", "--train-on-validation", "--eval-strategy", "no", "--no-load-best-model-at-end",
                "--no-tune-threshold"));
        System.err.println("refit: training trial " + best.number() + "'s parameters on training + validation data -> " + dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        ChildJvm.Result r = ChildJvm.run(Main.class.getName(), args, result.output().resolve("logs"), "refit");
        if (!r.succeeded()) {
            throw new UserError("the refit failed (exit " + r.exitCode() + "); the end of its stderr:\n"
                    + r.stderrTail(ChildJvm.STDERR_TAIL_LINES));
        }
        StudyResult withRefit = result.withRefit(dir);
        StudyResult.write(withRefit);
        System.err.println(StudyResult.refitNote(dir));
        return withRefit;
    }
}
