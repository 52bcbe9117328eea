package org.finetune4j.bench;

import org.finetune4j.config.AlbertConfig;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.DebertaV2Config;
import org.finetune4j.config.DistilBertConfig;
import org.finetune4j.config.ElectraConfig;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.config.MPNetConfig;

/**
 * Floating-point operations of an encoder forward and training step, counted as the MFU literature
 * counts them: matrix multiplies only (2 FLOPs per multiply-add), embeddings, norms, softmax and the
 * small classification head left out.
 *
 * <p>Per token and layer, a forward pass costs {@code 2·(4·H² + 2·H·I)} in the linear layers (query,
 * key, value and attention output are H×H; the feed-forward is H×I and I×H) plus {@code 2·2·T·H} in
 * attention (Q·Kᵀ and the weighted sum of V over T positions). Training a layer costs 3× its forward:
 * the backward pass computes activation gradients and weight gradients, each as expensive as the
 * forward. This is the count of Kaplan et al., "Scaling Laws for Neural Language Models" (2020), table 1
 * (C_forward ≈ 2N + 2·n_layer·n_ctx·d_attn, training ≈ 3× forward), which the PaLM paper (Chowdhery et
 * al. 2022, appendix B) uses to define model FLOPs utilisation: 6N + 12·L·H·T per token.
 *
 * <p>What backward has to compute depends on the strategy, so the multiplier is per layer: 3 for a
 * layer whose weights train; 2 for a frozen layer that gradients must still pass through (LoRA: its
 * adapters need the activation gradients, not the frozen weights' gradients; the adapters' own r×H
 * matrices are negligible at r ≪ H); 1 for a frozen layer below every trainable one (forward only).
 */
public final class ModelFlops {
    private final int hidden;
    private final int intermediate;
    private final int layers;

    public ModelFlops(int hidden, int intermediate, int layers) {
        this.hidden = hidden;
        this.intermediate = intermediate;
        this.layers = layers;
    }

    public static ModelFlops of(EncoderConfig c) {
        int intermediate = c instanceof BertConfig b ? b.intermediateSize()
                : c instanceof ElectraConfig e ? e.intermediateSize() // its E -> H projection is an embedding cost, left out
                : c instanceof DebertaV2Config d ? d.intermediateSize()
                : c instanceof MPNetConfig p ? p.intermediateSize()
                : c instanceof AlbertConfig a ? a.intermediateSize()
                : ((DistilBertConfig) c).hiddenDim();
        return new ModelFlops(c.hiddenSize(), intermediate, c.numLayers());
    }

    public int layers() {
        return layers;
    }

    /** Forward FLOPs of one layer for one sequence of {@code t} positions: t·[2·(4H² + 2HI) + 2·2·t·H]. */
    public double layerForward(int t) {
        double h = hidden;
        return t * (2 * (4 * h * h + 2 * h * intermediate) + 2.0 * 2 * t * h);
    }

    /** Forward FLOPs of the whole encoder for one sequence of {@code t} positions. */
    public double forward(int t) {
        return layers * layerForward(t);
    }

    /**
     * FLOPs of one training step on one sequence of {@code t} positions.
     *
     * @param perLayerMultiplier for each layer, 3 (trains), 2 (frozen, gradients pass through) or 1 (forward only)
     */
    public double training(int t, int[] perLayerMultiplier) {
        if (perLayerMultiplier.length != layers) {
            throw new IllegalArgumentException("one multiplier per layer: " + layers + " layers, got " + perLayerMultiplier.length);
        }
        double f = layerForward(t);
        double sum = 0;
        for (int m : perLayerMultiplier) {
            sum += m * f;
        }
        return sum;
    }

    /**
     * The per-layer multipliers of a strategy (see the class comment).
     *
     * @param frozenLayers for "partial": how many of the lowest layers are frozen
     */
    public int[] multipliers(String strategy, int frozenLayers) {
        int[] m = new int[layers];
        for (int i = 0; i < layers; i++) {
            m[i] = switch (strategy) {
                case "full" -> 3;
                case "lora" -> 2;
                case "frozen" -> 1;
                case "partial" -> i >= frozenLayers ? 3 : 1;
                default -> throw new IllegalArgumentException("unknown strategy " + strategy);
            };
        }
        return m;
    }

    /** FLOPs of an n×n by n×n matrix product: n multiply-adds for each of n² outputs. */
    public static double matmul(int n) {
        return 2.0 * n * n * n;
    }
}
