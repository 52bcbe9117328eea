package org.finetune4j.bench;

import java.util.List;

/**
 * One measurement for a {@link BenchWorker} child process, written as JSON by {@link Benchmark}.
 *
 * @param kind peak (fp32 matmul peak), train, infer, onnx, scale-length, scale-batch or scale-data
 * @param modelDir the Hugging Face model directory
 * @param dataFile the prepared training texts, JSON Lines with "text" and "label"
 * @param labels the label names, in id order
 * @param strategy full, frozen, partial or lora (train and scale-* kinds)
 * @param frozenLayers partial: frozen lowest layers
 * @param loraR LoRA rank
 * @param loraAlpha LoRA alpha
 * @param loraTargets LoRA target modules
 * @param batchSize training batch size
 * @param maxLength truncation length
 * @param untimedSteps training steps run before the timed ones (not learning-rate warmup)
 * @param steps timed steps
 * @param batches inference batch sizes (infer, onnx, scale-batch)
 * @param samples examples per inference batch size (at least one batch)
 * @param lengths sequence lengths (scale-length)
 * @param sizes dataset sizes (scale-data)
 * @param matrixSize peak: the n of the n×n matmul
 * @param onnxFile onnx: the ONNX export of the same model
 * @param threads onnx: ONNX Runtime intra-op threads (the PyTorch engine's, so both get the same cores)
 * @param seed seeds data order, dropout and new weights
 * @param precision fp32 or bf16: the linear layers' products (train, infer); null for fp32
 */
public record BenchTask(String kind, String modelDir, String dataFile, List<String> labels, String strategy, int frozenLayers,
        int loraR, double loraAlpha, List<String> loraTargets, int batchSize, int maxLength, int untimedSteps, int steps,
        List<Integer> batches, int samples, List<Integer> lengths, List<Integer> sizes, int matrixSize, String onnxFile,
        int threads, long seed, String precision) {

    BenchTask with(String newKind, String newStrategy) {
        return new BenchTask(newKind, modelDir, dataFile, labels, newStrategy, frozenLayers, loraR, loraAlpha, loraTargets,
                batchSize, maxLength, untimedSteps, steps, batches, samples, lengths, sizes, matrixSize, onnxFile, threads, seed, precision);
    }

    /** The same task for other inference batch sizes. */
    BenchTask withBatches(List<Integer> newBatches) {
        return new BenchTask(kind, modelDir, dataFile, labels, strategy, frozenLayers, loraR, loraAlpha, loraTargets,
                batchSize, maxLength, untimedSteps, steps, newBatches, samples, lengths, sizes, matrixSize, onnxFile, threads, seed,
                precision);
    }

    /** The same task at another precision of the linear layers' products. */
    BenchTask withPrecision(String newPrecision) {
        return new BenchTask(kind, modelDir, dataFile, labels, strategy, frozenLayers, loraR, loraAlpha, loraTargets,
                batchSize, maxLength, untimedSteps, steps, batches, samples, lengths, sizes, matrixSize, onnxFile, threads, seed,
                newPrecision);
    }
}
