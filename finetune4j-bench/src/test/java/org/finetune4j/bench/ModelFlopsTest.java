package org.finetune4j.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.finetune4j.config.BertConfig;
import org.finetune4j.config.ElectraConfig;
import org.junit.jupiter.api.Test;

class ModelFlopsTest {
    /** all-MiniLM-L6-v2: hidden 384, intermediate 1536, 6 layers. */
    private final ModelFlops miniLm = new ModelFlops(384, 1536, 6);

    @Test
    void forwardIsTwiceTheNonEmbeddingParametersPerTokenPlusAttention() {
        // Kaplan et al. table 1: C_forward = 2N + 2 n_layer n_ctx d_attn per token, N = n_layer (4H^2 + 2HI) here.
        double n = 6 * (4.0 * 384 * 384 + 2.0 * 384 * 1536);
        double perToken = 2 * n + 2 * 6 * 128 * 384 * 2; // Q·K^T and A·V, each 2·T·H per token and layer
        assertEquals(128 * perToken, miniLm.forward(128), 1e-3);
        assertEquals(2.869e9, miniLm.forward(128), 1e6);
    }

    @Test
    void trainingMultipliersFollowWhatBackwardMustCompute() {
        assertArrayEquals(new int[] {3, 3, 3, 3, 3, 3}, miniLm.multipliers("full", 0));
        assertArrayEquals(new int[] {2, 2, 2, 2, 2, 2}, miniLm.multipliers("lora", 0));
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1}, miniLm.multipliers("frozen", 0));
        assertArrayEquals(new int[] {1, 1, 1, 1, 3, 3}, miniLm.multipliers("partial", 4));
        assertEquals(3 * miniLm.forward(64), miniLm.training(64, miniLm.multipliers("full", 0)), 1e-3);
        assertEquals((4 + 2 * 3) * miniLm.layerForward(64), miniLm.training(64, miniLm.multipliers("partial", 4)), 1e-3);
        assertThrows(IllegalArgumentException.class, () -> miniLm.training(64, new int[] {3}));
    }

    /** Every architecture's config gives its layer sizes: ELECTRA's intermediate_size, XLM-R's as RoBERTa's. */
    @Test
    void configsOfEachArchitectureGiveTheirLayerSizes() {
        // electra-small-discriminator: embeddings 128, hidden 256, intermediate 1024, 12 layers
        ElectraConfig small = new ElectraConfig(30522, 128, 256, 12, 4, 1024, "gelu", 0.1, 0.1, 512, 2, 0.02, 1e-12, 0, null);
        assertEquals(new ModelFlops(256, 1024, 12).forward(128), ModelFlops.of(small).forward(128), 1e-3);
        BertConfig xlmr = BertConfig.tiny("xlm-roberta", 1000);
        assertEquals(new ModelFlops(32, 37, 2).forward(16), ModelFlops.of(xlmr).forward(16), 1e-3);
    }

    @Test
    void aSquareMatmulIsTwoNCubed() {
        assertEquals(2.0 * 2048 * 2048 * 2048, ModelFlops.matmul(2048));
    }
}
