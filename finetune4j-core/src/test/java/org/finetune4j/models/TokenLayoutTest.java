package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Packed inference (only the real tokens, {@link PackedTokens}) must compute what the padded batch
 * computes ({@link PaddedInference}, the oracle): the same states at every real token within 2e-5
 * (float rounding of other matrix shapes), zeros at padding, logits within 2e-5 and the same labels;
 * and the groups must cover each token once.
 */
class TokenLayoutTest {
    static final List<String> TEXTS = List.of("ok", "Forest fire near La Ronge Sask. Canada",
            "13,000 people receive #wildfires evacuation orders in California", "a short one", "ok then",
            "All residents asked to 'shelter in place' are being notified by officers. No other evacuation orders",
            "fire", "Just got sent this photo from Ruby #Alaska as smoke from #wildfires pours into a school");
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "mpnet", "albert"})
    void packedInferenceGivesThePaddedBatchsStatesAndLogits(String type) {
        ModelConfig cfg = ArchitecturesTest.classifier(type);
        try (NDManager batch = TINY.manager().newSubManager(); TransformerModel m = TransformerModel.random(cfg, TINY.manager(), 5)) {
            EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, cfg.encoder().padTokenId(), 0);
            TokenLayout layout = TokenLayout.of(in, false);
            assertInstanceOf(PackedTokens.class, layout);
            int[] lengths = TestBatches.lengths(TINY.tokenizer(), TEXTS);
            assertEquals(java.util.Arrays.stream(lengths).sum(), ((PackedTokens) layout).size());

            float[] padded = PaddedInference.encode(m, in).lastHiddenState().toFloatArray();
            NDArray packedStates = m.encode(in, false).lastHiddenState();
            assertEquals(new Shape(TEXTS.size(), in.inputIds().getShape().get(1), cfg.encoder().hiddenSize()), packedStates.getShape());
            float[] packed = packedStates.toFloatArray();
            int t = (int) in.inputIds().getShape().get(1);
            int h = cfg.encoder().hiddenSize();
            double worst = 0;
            for (int b = 0; b < TEXTS.size(); b++) {
                for (int p = 0; p < t; p++) {
                    for (int j = 0; j < h; j++) {
                        int i = (b * t + p) * h + j;
                        if (p < lengths[b]) {
                            worst = Math.max(worst, Math.abs(packed[i] - padded[i]));
                        } else {
                            assertEquals(0f, packed[i], "padding state at row " + b + " position " + p);
                        }
                    }
                }
            }
            assertTrue(worst < 2e-5, type + ": packed and padded states differ by " + worst);

            NDArray oracleLogits = PaddedInference.logits(m, in); // (B, C)
            NDArray packedLogits = m.logits(in, false); // (B, C)
            assertArrayEquals(oracleLogits.toFloatArray(), packedLogits.toFloatArray(), 2e-5f);
            assertArrayEquals(oracleLogits.argMax(1).toLongArray(), packedLogits.argMax(1).toLongArray(), "labels");
        }
    }

    @Test
    void trainingAndUnpaddedBatchesKeepThePaddedLayout() {
        try (NDManager batch = TINY.manager().newSubManager()) {
            EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, 0, 0);
            assertInstanceOf(TokenLayout.Padded.class, TokenLayout.of(in, true));
            assertInstanceOf(PackedTokens.class, TokenLayout.of(in, false));
            EncoderInput one = TestBatches.encode(batch, TINY.tokenizer(), List.of("no padding here"), 0, 0);
            assertInstanceOf(TokenLayout.Padded.class, TokenLayout.of(one, false));
            NDArray empty = batch.create(new long[] {1, 1, 0, 0, 0, 0}, new Shape(2, 3)); // a row with no token
            assertNull(PackedTokens.of(empty));
            assertInstanceOf(TokenLayout.Padded.class, TokenLayout.of(new EncoderInput(empty, empty, null), false));
        }
    }

    @Test
    void groupsCoverEveryTokenOnceLongestFirstWithBoundedPadding() {
        try (NDManager batch = TINY.manager().newSubManager()) {
            int[] lengths = {5, 3, 8, 8, 1, 7, 2, 2};
            int t = 8;
            long[] mask = new long[lengths.length * t];
            for (int b = 0; b < lengths.length; b++) {
                java.util.Arrays.fill(mask, b * t, b * t + lengths[b], 1L);
            }
            PackedTokens p = PackedTokens.of(batch.create(mask, new Shape(lengths.length, t)));
            assertEquals(36, p.size());
            int tokens = 0;
            int previousLength = Integer.MAX_VALUE;
            for (PackedTokens.Group g : p.groups()) {
                assertTrue(g.length() <= previousLength, "groups go longest first");
                previousLength = g.length();
                long[] scatter = g.scatter().toLongArray();
                tokens += scatter.length;
                assertTrue(g.count() * g.length() <= (1 + PackedTokens.GROUP_PADDING) * scatter.length
                        || g.count() == 1, "group padding");
                assertEquals(new Shape(g.count(), 1, 1, g.length()), g.mask().getShape());
            }
            assertEquals(36, tokens);
            // Lengths 8, 8, 7, 5 share a group (32 slots for 28 tokens); 3 cannot join (40 > 1.15 * 31).
            assertEquals(4, p.groups().get(0).count());
            assertEquals(4, p.groups().size()); // {8, 8, 7, 5}, {3}, {2, 2}, {1}
            assertEquals(8, p.groups().get(0).length());
            // Position ids are each token's column in its row.
            long[] pos = p.positionIds(batch).toLongArray();
            assertArrayEquals(new long[] {0, 1, 2, 3, 4, 5, 6, 7}, java.util.Arrays.copyOf(pos, 8));
        }
    }

    @Test
    void holesInTheMaskArePackedAsWell() {
        ModelConfig cfg = ArchitecturesTest.classifier("bert");
        try (NDManager batch = TINY.manager().newSubManager(); TransformerModel m = TransformerModel.random(cfg, TINY.manager(), 9)) {
            EncoderInput right = TestBatches.encode(batch, TINY.tokenizer(), TEXTS.subList(0, 3), 0, 0);
            // Left-pad row 0 instead: its tokens move to the end of the row, the mask with them.
            long t = right.inputIds().getShape().get(1);
            long[] ids = right.inputIds().toLongArray();
            long[] mask = right.attentionMask().toLongArray();
            int len = (int) java.util.Arrays.stream(mask, 0, (int) t).sum();
            long[] ids2 = ids.clone();
            long[] mask2 = mask.clone();
            java.util.Arrays.fill(ids2, 0, (int) t, 0L);
            java.util.Arrays.fill(mask2, 0, (int) t, 0L);
            System.arraycopy(ids, 0, ids2, (int) t - len, len);
            java.util.Arrays.fill(mask2, (int) t - len, (int) t, 1L);
            EncoderInput left = new EncoderInput(batch.create(ids2, right.inputIds().getShape()),
                    batch.create(mask2, right.inputIds().getShape()), null);
            assertInstanceOf(PackedTokens.class, TokenLayout.of(left, false));
            float[] padded = PaddedInference.encode(m, left).lastHiddenState().toFloatArray();
            float[] packed = m.encode(left, false).lastHiddenState().toFloatArray();
            int h = cfg.encoder().hiddenSize();
            double worst = 0;
            for (int p = (int) t - len; p < t; p++) {
                for (int j = 0; j < h; j++) {
                    worst = Math.max(worst, Math.abs(packed[p * h + j] - padded[p * h + j]));
                }
            }
            assertTrue(worst < 2e-5, "left-padded row differs by " + worst);
        }
    }
}
