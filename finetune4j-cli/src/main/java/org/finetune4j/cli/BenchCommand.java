package org.finetune4j.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import org.finetune4j.api.DataSpec;
import org.finetune4j.bench.Benchmark;
import org.finetune4j.lora.LoraConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Measures training and inference throughput, memory and MFU, each measurement in its own JVM. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        defaultValueProvider = TrainingDefaults.class,
        description = {"Measure training and inference throughput, peak memory and model FLOPs utilisation.",
                "Each measurement runs in its own JVM. Writes bench.json and bench.md into --output;"
                        + " with --scaling-dir, also PNG charts of throughput against length, batch and data size."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2", description = "Model directory or packaged id.")
    String model;

    @Option(names = "--train", description = "Labelled texts to measure on (default: the bundled example data).")
    Path train;

    @Mixin
    DataOptions data = new DataOptions();

    @Mixin
    CleaningOptions cleaning = new CleaningOptions();

    @Option(names = "--keep-duplicates", description = "Keep repeated texts (default: drop them, as train does).")
    boolean keepDuplicates;

    @Option(names = "--random-weights", description = "Measure the architecture of --model's config.json with seeded random"
            + " weights: what a model of that shape costs, without its weights file (the directory still needs a tokenizer).")
    boolean randomWeights;

    @Option(names = "--strategies", split = ",", defaultValue = "full,lora,frozen", description = "Training strategies to measure.")
    List<String> strategies;

    @Mixin
    StepOptions step = new StepOptions();

    @Mixin
    LoraOptions lora = new LoraOptions();

    @Option(names = "--untimed-steps", defaultValue = "10",
            description = "Training steps run before the timed ones (warm caches and kernels; not learning-rate warmup).")
    int untimedSteps;

    @Option(names = "--steps", defaultValue = "100", description = "Timed training steps per strategy.")
    int steps;

    @Option(names = "--inference-batches", split = ",", defaultValue = "1,8,64")
    List<Integer> inferBatches;

    @Option(names = "--inference-samples", defaultValue = "512", description = "Examples per inference batch size.")
    int inferSamples;

    @Option(names = "--onnx", description = "Also time inference through ONNX Runtime on the same model and batches.")
    boolean onnx;

    @Option(names = "--onnx-file", description = "The model's ONNX export (default: a packaged model's own).")
    Path onnxFile;

    @Option(names = "--onnx-batches", split = ",", defaultValue = "64")
    List<Integer> onnxBatches;

    @Option(names = "--scaling-dir", description = "Also measure scaling and write PNG charts here.")
    Path scalingDir;

    @Option(names = "--scaling-lengths", split = ",", defaultValue = "32,64,128,256,512")
    List<Integer> scaleLengths;

    @Option(names = "--scaling-batches", split = ",", defaultValue = "1,8,16,32,64")
    List<Integer> scaleBatches;

    @Option(names = "--scaling-sizes", split = ",", defaultValue = "128,256,512,1024", description = "Dataset sizes for one epoch each.")
    List<Integer> scaleSizes;

    @Option(names = "--scaling-steps", defaultValue = "3", description = "Timed steps per length or batch-size point.")
    int scaleSteps;

    @Option(names = "--peak-matrix", defaultValue = "2048", description = "n of the n×n fp32 matmul that measures the peak.")
    int matrixSize;

    @Option(names = "--precisions", split = ",", defaultValue = "fp32",
            description = "fp32 and/or bf16 (the linear layers' products): training and inference are measured at each.")
    List<String> precisions;

    @Option(names = "--output", description = "Directory for bench.json, bench.md and the logs (default: runs/bench-<time>).")
    Path output;

    @Option(names = "--overwrite", description = "Replace an earlier bench in --output.")
    boolean overwrite;

    @Override
    public Integer call() {
        if (strategies.contains("lora")) {
            LoraConfig asked = lora.toConfig();
            LoraConfig timed = LoraConfig.of(asked.r(), asked.loraAlpha(), LoraConfig.DEFAULTS.loraDropout(), asked.targetModules());
            if (!asked.equals(timed)) {
                throw new UserError("bench times LoRA with --lora-r, --lora-alpha and --lora-target-modules only; leave"
                        + " --lora-dropout, --lora-layers, --lora-bias and --use-rslora at their defaults");
            }
        }
        Path trainFile = train != null ? train
                : ExampleData.extract(org.finetune4j.onnx.PackagedModels.defaultHome().resolve("examples"));
        DataSpec spec = new DataSpec(trainFile, null, null, null, data.toReadOptions(true), cleaning.toCleaner(), !keepDuplicates,
                true);
        Path out = output != null ? output
                : Path.of("runs", "bench-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Benchmark.Result r = Benchmark.run(new Benchmark.Spec(model, spec, strategies, step.frozenLayers, lora.r, lora.alpha,
                lora.targets, step.batchSize, step.maxLength, untimedSteps, steps, inferBatches, inferSamples, onnx, onnxFile,
                onnxBatches, scalingDir, scaleLengths, scaleBatches, scaleSizes, scaleSteps, matrixSize, step.seed, out, overwrite,
                precisions, randomWeights), System.err::println);
        System.out.println(r.toMarkdown());
        System.err.println("bench.json and bench.md in " + out + (scalingDir != null ? "; charts in " + scalingDir : ""));
        if (!r.allSucceeded()) {
            for (Benchmark.Measurement m : r.failures()) {
                System.err.println("error: measurement " + m.name() + " failed (exit " + m.exitCode() + "); the end of its"
                        + " stderr (all of it in " + out.resolve("logs") + "):\n" + m.error());
            }
            return 1;
        }
        return 0;
    }
}
