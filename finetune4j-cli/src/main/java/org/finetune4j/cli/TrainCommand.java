package org.finetune4j.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import org.finetune4j.api.DataSpec;
import org.finetune4j.api.FineTuning;
import org.finetune4j.api.RunResult;
import org.finetune4j.train.TrainingConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Fine-tunes a model on a labelled file; with no options, the packaged MiniLM on the bundled example data. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        defaultValueProvider = TrainingDefaults.class,
        description = {"Fine-tune a BERT-family model for text classification.",
                "Without --train it fine-tunes the packaged all-MiniLM-L6-v2 on the bundled example data"
                        + " (360 support messages, 3 classes) and prints the report."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    DataSourceOptions source = new DataSourceOptions();

    @Option(names = "--strategy", description = "full, frozen, partial or lora.")
    String strategy;

    @Mixin
    TrainingOptions training = new TrainingOptions();

    @Option(names = "--output", description = "Run directory (default: runs/<model>-<strategy>-<time>).")
    Path output;

    @Option(names = "--overwrite", description = "Replace an earlier run in --output.")
    boolean overwrite;

    @Option(names = "--resume-from-checkpoint", description = "latest, or a checkpoint-N directory of this run.")
    String resume;

    @Option(names = "--train-on-validation", description = "Train on the training and validation parts together, with no"
            + " validation (what tune --refit does with the best parameters); a test part stays held out.")
    boolean trainOnValidation;

    @Option(names = {"-q", "--quiet"}, description = "No progress bars or log lines; print only the final JSON.")
    boolean quiet;

    @Override
    public Integer call() {
        ConsoleListener listener = new ConsoleListener(quiet);
        training.precision.apply(System.err);
        DataSpec spec = source.toDataSpec(listener::onMessage);
        TrainingConfig cfg = training.toConfig(strategy);
        boolean isLora = cfg.strategy() == org.finetune4j.train.Strategy.LORA;
        FineTuning.Spec run = FineTuning.Spec.builder().model(source.model).data(spec).head(training.headChoice())
                .multiLabel(source.multiLabel).training(cfg).lora(isLora ? training.lora.toConfig() : null)
                .mergeLora(isLora && training.merge).output(runDir()).overwrite(overwrite).resumeFrom(resume)
                .trainOnValidation(trainOnValidation).build();
        listener.onMessage("seed " + training.step.seed + "; output " + runDir());
        RunResult r = FineTuning.run(run, listener);
        Reports.print(r, quiet);
        return 0;
    }

    private Path resolvedOutput;

    private Path runDir() {
        if (resolvedOutput == null) {
            resolvedOutput = output != null ? output : Path.of("runs", shortName(source.model) + "-" + strategy + "-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        return resolvedOutput;
    }

    static String shortName(String model) {
        String s = Path.of(model).getFileName().toString();
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
