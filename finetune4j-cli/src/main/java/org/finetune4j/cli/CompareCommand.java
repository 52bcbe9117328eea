package org.finetune4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.finetune4j.api.StrategyComparison;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * Trains several strategies on the same data, split, seed and budget, each in its own JVM running
 * {@code train}, and writes the comparison table, JSON and report.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        defaultValueProvider = TrainingDefaults.class,
        description = {"Train several strategies with the same data, split, seed and budget and compare them.",
                "Each strategy runs as `train` in its own JVM, so its peak memory is its own. Writes comparison.md,"
                        + " comparison.json, report.html and one run directory per strategy into --output."})
final class CompareCommand implements Callable<Integer> {
    @Option(names = "--strategies", split = ",", defaultValue = "full,frozen,lora,partial",
            description = "Strategies to compare, in order: full, frozen, lora, partial.")
    List<String> strategies;

    @Mixin
    DataSourceOptions source = new DataSourceOptions();

    @Mixin
    TrainingOptions training = new TrainingOptions();

    @Option(names = "--output", required = true, description = "Directory for the comparison and the runs (<output>/<strategy>).")
    Path output;

    @Option(names = "--overwrite", description = "Replace an earlier comparison in --output.")
    boolean overwrite;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<String> shared = sharedArguments(spec.commandLine().getParseResult(), spec);
        StrategyComparison.Spec run = new StrategyComparison.Spec(strategies, output, overwrite, Main.class.getName(),
                (strategy, runDir) -> {
                    List<String> args = new ArrayList<>(List.of("train", "--strategy", strategy, "--output", runDir.toString(),
                            "--quiet"));
                    args.addAll(shared);
                    return args;
                }, source.model, source.describe());
        StrategyComparison.Result r = StrategyComparison.run(run, System.err::println);
        System.out.println(r.toMarkdown());
        System.err.println("comparison.md, comparison.json and report.html in " + output);
        if (!r.allSucceeded()) {
            for (StrategyComparison.Outcome f : r.failures()) {
                System.err.println("error: strategy " + f.strategy() + " failed (exit " + f.exitCode() + "); the end of its"
                        + " stderr (all of it in " + output.resolve(StrategyComparison.LOGS) + "):\n" + f.error());
            }
            return 1;
        }
        return 0;
    }

    /**
     * The data and training options given on this command line, as the child's {@code train} arguments:
     * the same mixins define them there, so they mean the same thing. Options left at their defaults are
     * not repeated; the child's defaults are the same.
     */
    static List<String> sharedArguments(ParseResult parsed, CommandSpec spec) {
        Set<String> sharedNames = new HashSet<>();
        for (String mixin : List.of("source", "training")) {
            collectNames(spec.mixins().get(mixin), sharedNames);
        }
        List<String> args = new ArrayList<>();
        for (OptionSpec o : parsed.matchedOptions()) {
            if (!sharedNames.contains(o.longestName())) {
                continue;
            }
            if (o.arity().max() == 0) {
                // A flag; a negatable one may have been turned off (--no-group-by-length).
                args.add(Boolean.TRUE.equals(o.getValue()) ? o.longestName()
                        : spec.negatableOptionTransformer().makeNegative(o.longestName(), spec));
            } else {
                for (String v : o.originalStringValues()) {
                    args.add(o.longestName());
                    args.add(v);
                }
            }
        }
        return args;
    }

    private static void collectNames(CommandSpec mixin, Set<String> names) {
        mixin.options().forEach(o -> names.add(o.longestName()));
        mixin.mixins().values().forEach(m -> collectNames(m, names));
    }
}
