package org.finetune4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.finetune4j.api.SentenceEncoder;
import org.finetune4j.config.Pooling;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedding stage in local mode against {@link SentenceEncoder#encode} on the same texts: every vector within 1e-5. */
class SentenceEmbeddingTransformerTest {
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void model() {
        // A classifier directory: its head is ignored, the encoder's hidden states are pooled.
        model = TinyModels.save(TinyModels.classifier(TinyModels.bert(), List.of("a", "b")), 13, tmp.resolve("model"));
    }

    @Test
    void meanNormalizedAndClsEqualSentenceEncoder() {
        check("mean", true);
        check("cls", false);
    }

    @Test
    void aSavedStageLoadsBackWithItsParams() throws Exception {
        SentenceEmbeddingTransformer stage = new SentenceEmbeddingTransformer().setModelPath(model.toString())
                .setOutputCol("vec").setPooling("cls").setNormalize(true).setMaxLength(16);
        String dir = tmp.resolve("stage").toString();
        stage.write().save(dir);
        SentenceEmbeddingTransformer back = SentenceEmbeddingTransformer.load(dir);
        assertEquals("vec", back.getOutputCol());
        assertEquals("cls", back.getPooling());
        assertEquals(true, back.getNormalize());
        assertEquals(16, back.getMaxLength());
        List<String> texts = LocalSpark.sampleTexts();
        assertEquals(stage.transform(LocalSpark.texts(texts, 2)).collectAsList(),
                back.transform(LocalSpark.texts(texts, 2)).collectAsList());
    }

    private static void check(String pooling, boolean normalize) {
        List<String> texts = LocalSpark.sampleTexts();
        List<Row> out = new SentenceEmbeddingTransformer().setModelPath(model.toString()).setPooling(pooling)
                .setNormalize(normalize).setBatchSize(3).transform(LocalSpark.texts(texts, 3)).collectAsList();
        List<String> kept = texts.stream().filter(t -> !EmptyTextPolicy.isEmpty(t)).toList();
        try (SentenceEncoder enc = SentenceEncoder.load(model, 0)) {
            float[][] want = enc.encode(kept, Pooling.parse(pooling), normalize);
            int k = 0;
            for (int i = 0; i < texts.size(); i++) {
                Row r = out.get(i);
                assertEquals(i, r.getInt(0), "input order");
                if (EmptyTextPolicy.isEmpty(texts.get(i))) {
                    assertNull(r.get(2));
                    continue;
                }
                double[] got = ((Vector) r.get(2)).toArray();
                assertEquals(32, got.length);
                double[] w = new double[want[k].length];
                for (int j = 0; j < w.length; j++) {
                    w[j] = want[k][j];
                }
                assertArrayEquals(w, got, 1e-5, pooling + " row " + i);
                k++;
            }
        }
    }
}
