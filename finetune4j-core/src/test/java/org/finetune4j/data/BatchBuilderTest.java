package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.Test;

/** Tokenise once, then pad per batch, with the real uncased BERT tokenizer. */
class BatchBuilderTest {
    private static final int CLS = 101;
    private static final int SEP = 102;

    private static Example ex(String text, String pair, String... labels) {
        return new Example("id-" + text.length(), text, pair, List.of(labels), 1);
    }

    @Test
    void padsToTheLongestInTheBatchWithMaskAndPadId() {
        Dataset data = new Dataset("d", List.of(ex("hello world", null, "pos"), ex("hello", null, "neg"),
                ex("a much longer sentence about the weather today", null, "pos")), LabelMode.SINGLE);
        LabelSet labels = LabelSet.fromTraining(data);
        EncodedDataset enc;
        try (TextTokenizer tok = TinyModels.tokenizer(8)) {
            enc = EncodedDataset.encode(data, tok, labels);
        }
        assertEquals(3, enc.size());
        assertArrayEquals(new int[] {4, 3, 8}, enc.lengths());
        assertEquals(1, enc.truncatedCount()); // the third is cut to 8 tokens, [SEP] kept
        assertEquals(SEP, enc.tokenIds(2)[7]);
        assertEquals(8, enc.maxLength());
        assertTrue(!enc.hasPairs());
        int hello = enc.tokenIds(1)[1];
        int world = enc.tokenIds(0)[2];

        BatchBuilder builder = new BatchBuilder(0);
        try (NDManager manager = NDManager.newBaseManager()) {
            EncoderInput in = builder.toInput(manager, enc, new int[] {1, 0});
            assertEquals(new Shape(2, 4), in.inputIds().getShape());
            assertEquals(DataType.INT64, in.inputIds().getDataType());
            assertEquals(DataType.INT64, in.attentionMask().getDataType());
            assertArrayEquals(new long[] {CLS, hello, SEP, 0, CLS, hello, world, SEP}, in.inputIds().toLongArray());
            assertArrayEquals(new long[] {1, 1, 1, 0, 1, 1, 1, 1}, in.attentionMask().toLongArray());
            assertNull(in.tokenTypeIds()); // no pairs: the encoders read null as all zeros

            NDArray y = builder.labels(manager, enc, new int[] {1, 0, 2});
            assertEquals(DataType.INT64, y.getDataType());
            assertArrayEquals(new long[] {0, 1, 1}, y.toLongArray()); // neg = 0, pos = 1 (alphabetical)

            // RoBERTa pads with id 1; all three examples: T = 8.
            EncoderInput roberta = new BatchBuilder(1).toInput(manager, enc, new int[] {0, 1, 2});
            assertEquals(new Shape(3, 8), roberta.inputIds().getShape());
            long[] ids = roberta.inputIds().toLongArray();
            assertArrayEquals(new long[] {CLS, hello, SEP, 1, 1, 1, 1, 1}, java.util.Arrays.copyOfRange(ids, 8, 16));
        }
    }

    @Test
    void pairsGetTokenTypesAndMultiLabelsAMultiHotMatrix() {
        Dataset data = new Dataset("p", List.of(ex("is it raining", "yes it is", "weather", "question"),
                ex("hello", "hi", "greeting")), LabelMode.MULTI);
        LabelSet labels = LabelSet.fromTraining(data);
        assertEquals(List.of("greeting", "question", "weather"), labels.names());
        EncodedDataset enc;
        try (TextTokenizer tok = TinyModels.tokenizer(0)) {
            enc = EncodedDataset.encode(data, tok, labels);
        }
        assertTrue(enc.hasPairs());
        assertArrayEquals(new int[] {2, 1}, enc.classIds(0));
        try (NDManager manager = NDManager.newBaseManager()) {
            BatchBuilder builder = new BatchBuilder(0);
            EncoderInput in = builder.toInput(manager, enc, new int[] {0, 1});
            // [CLS] is it raining [SEP] yes it is [SEP] = 9; [CLS] hello [SEP] hi [SEP] = 5, padded to 9.
            assertEquals(new Shape(2, 9), in.inputIds().getShape());
            assertArrayEquals(new long[] {0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0},
                    in.tokenTypeIds().toLongArray());
            assertArrayEquals(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
                    in.attentionMask().toLongArray());
            NDArray y = builder.labels(manager, enc, new int[] {0, 1});
            assertEquals(DataType.FLOAT32, y.getDataType());
            assertEquals(new Shape(2, 3), y.getShape());
            assertArrayEquals(new float[] {0, 1, 1, 1, 0, 0}, y.toFloatArray());
        }
    }

    @Test
    void unknownLabelsAndUnlabelledData() {
        Dataset train = new Dataset("train.csv", List.of(ex("a", null, "x"), ex("b", null, "y")), LabelMode.SINGLE);
        Dataset dev = new Dataset("dev.csv", List.of(new Example("0", "c", null, List.of("z"), 5)), LabelMode.SINGLE);
        Dataset test = new Dataset("test.csv", List.of(new Example("0", "c", null, List.of(), 2)), LabelMode.UNLABELLED);
        try (TextTokenizer tok = TinyModels.tokenizer(16)) {
            LabelSet labels = LabelSet.fromTraining(train);
            DataException e = assertThrows(DataException.class, () -> EncodedDataset.encode(dev, tok, labels));
            assertTrue(e.getMessage().startsWith("label 'z' at dev.csv line 5 was not in the training data"), e.getMessage());
            EncodedDataset enc = EncodedDataset.encode(test, tok, labels);
            assertEquals(LabelMode.UNLABELLED, enc.labelMode());
            assertEquals("0", enc.exampleId(0));
            try (NDManager manager = NDManager.newBaseManager()) {
                assertThrows(IllegalStateException.class, () -> new BatchBuilder(0).labels(manager, enc, new int[] {0}));
                assertThrows(IndexOutOfBoundsException.class, () -> new BatchBuilder(0).toInput(manager, enc, new int[] {1}));
            }
        }
    }
}
