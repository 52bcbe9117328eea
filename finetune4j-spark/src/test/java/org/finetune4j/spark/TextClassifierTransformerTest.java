package org.finetune4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkException;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.finetune4j.api.Prediction;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The classifier stage in local mode ({@code local[2]}, 3 partitions, windows smaller than a partition)
 * against {@link TextClassifier} on the same texts: labels equal, probabilities within 1e-5, rows in
 * input order, null/empty texts skipped with null outputs.
 */
class TextClassifierTransformerTest {
    @TempDir
    static Path tmp;
    static Path single;
    static Path multi;
    static Path encoder;
    static final List<String> LABELS = List.of("negative", "positive", "neutral");

    @BeforeAll
    static void models() {
        single = TinyModels.save(TinyModels.classifier(TinyModels.bert(), LABELS), 3, tmp.resolve("single"));
        multi = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()).withClassifier(List.of("sports", "politics", "tech"),
                ProblemType.MULTI_LABEL, HeadConfig.standard(TinyModels.bert())), 5, tmp.resolve("multi"));
        encoder = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 7, tmp.resolve("encoder"));
    }

    @Test
    void equalsTextClassifierRowForRowWithNullsAndSeveralPartitions() {
        List<String> texts = LocalSpark.sampleTexts();
        Dataset<Row> df = LocalSpark.texts(texts, 3);
        assertEquals(3, df.rdd().getNumPartitions());
        TextClassifierTransformer stage = new TextClassifierTransformer().setModelPath(single.toString())
                .setProbabilityCol("probability").setBatchSize(2); // a window of 16 rows: several per partition
        List<Row> out = stage.transform(df).collectAsList();
        assertSameAsTextClassifier(texts, out);
        assertEquals(1, cachedWith(single), "one model per path in this JVM, whatever the partitions");
        Dataset<Row> again = stage.transform(LocalSpark.texts(texts, 5));
        assertSameAsTextClassifier(texts, again.collectAsList());
        assertEquals(1, cachedWith(single));
        // The probability column names its classes in label-id order.
        AttributeGroup g = AttributeGroup.fromStructField(again.schema().apply("probability"));
        assertEquals("positive", g.getAttr(1).name().get());
    }

    @Test
    void aSavedPipelineLoadsBackAndGivesTheSameOutput() throws Exception {
        List<String> texts = LocalSpark.sampleTexts();
        Dataset<Row> df = LocalSpark.texts(texts, 3);
        TextClassifierTransformer stage = new TextClassifierTransformer().setModelPath(single.toString()).setInputCol("text")
                .setPredictionCol("label").setProbabilityCol("probability").setBatchSize(4).setEmptyTextPolicy("skip");
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {stage}).fit(df);
        Path saved = tmp.resolve("pipeline");
        fitted.write().save(saved.toString());
        PipelineModel loaded = PipelineModel.load(saved.toString());
        TextClassifierTransformer back = (TextClassifierTransformer) loaded.stages()[0];
        assertEquals(stage.uid(), back.uid());
        assertEquals("label", back.getPredictionCol());
        assertEquals(4, back.getBatchSize());
        assertEquals(single.toString(), back.getModelPath());
        List<Row> a = fitted.transform(df).collectAsList();
        List<Row> b = loaded.transform(df).collectAsList();
        assertEquals(a, b);
        assertSameAsTextClassifier(texts, b);
        // The stage on its own, too.
        stage.write().save(tmp.resolve("stage").toString());
        assertEquals(a, TextClassifierTransformer.load(tmp.resolve("stage").toString()).transform(df).collectAsList());
    }

    @Test
    void aModelShippedBySparkIsFoundByItsName() throws Exception {
        Path shipped = tmp.resolve("shipped-model");
        TinyModels.save(TinyModels.classifier(TinyModels.bert(), LABELS), 3, shipped); // the same weights as `single`
        LocalSpark.session().sparkContext().addFile(shipped.toString(), true); // as spark-submit --archives/--files do
        assertEquals(Path.of(org.apache.spark.SparkFiles.get("shipped-model")), ModelFiles.local("shipped-model"));
        List<String> texts = LocalSpark.sampleTexts();
        List<Row> out = new TextClassifierTransformer().setModelPath("shipped-model").setProbabilityCol("probability")
                .transform(LocalSpark.texts(texts, 2)).collectAsList();
        assertSameAsTextClassifier(texts, out);
    }

    @Test
    void aModelShippedAsAnArchiveIsFoundByItsFragmentName() throws Exception {
        Path zip = tmp.resolve("model.zip"); // spark-submit --archives model.zip#packed-model
        try (var out = new java.util.zip.ZipOutputStream(java.nio.file.Files.newOutputStream(zip));
                var files = java.nio.file.Files.list(single)) {
            for (Path f : files.toList()) {
                out.putNextEntry(new java.util.zip.ZipEntry(f.getFileName().toString()));
                java.nio.file.Files.copy(f, out);
                out.closeEntry();
            }
        }
        LocalSpark.session().sparkContext().addArchive(zip.toUri() + "#packed-model");
        List<String> texts = LocalSpark.sampleTexts();
        assertSameAsTextClassifier(texts, new TextClassifierTransformer().setModelPath("packed-model")
                .setProbabilityCol("probability").transform(LocalSpark.texts(texts, 2)).collectAsList());
    }

    @Test
    void aModelOnAnotherHadoopFileSystemIsCopiedOncePerJvm() {
        LocalSpark.session().sparkContext().hadoopConfiguration(); // the session exists before SparkEnv is read
        String remote = SchemeLocalFileSystem.SCHEME + "://" + single;
        Path copy = ModelFiles.local(remote);
        assertTrue(!copy.equals(single) && copy.startsWith(org.apache.spark.SparkFiles.getRootDirectory()), copy.toString());
        assertTrue(java.nio.file.Files.isRegularFile(copy.resolve("model.safetensors")));
        assertEquals(copy, ModelFiles.local(remote), "copied once");
        assertEquals(single, ModelFiles.local("file:" + single), "a local file: path is used in place");
        List<String> texts = LocalSpark.sampleTexts();
        assertSameAsTextClassifier(texts, new TextClassifierTransformer().setModelPath(remote).setProbabilityCol("probability")
                .transform(LocalSpark.texts(texts, 2)).collectAsList());
    }

    @Test
    void multiLabelModelsGiveAnArrayOfLabels() {
        List<String> texts = LocalSpark.sampleTexts();
        List<Row> out = new TextClassifierTransformer().setModelPath(multi.toString()).setProbabilityCol("p")
                .transform(LocalSpark.texts(texts, 2)).collectAsList();
        List<String> kept = texts.stream().filter(t -> !EmptyTextPolicy.isEmpty(t)).toList();
        try (TextClassifier clf = TextClassifier.load(multi)) {
            List<Prediction> expected = clf.predictBatch(kept);
            int k = 0;
            int labelled = 0;
            for (int i = 0; i < texts.size(); i++) {
                Row r = out.get(i);
                if (EmptyTextPolicy.isEmpty(texts.get(i))) {
                    assertNull(r.get(2));
                    continue;
                }
                Prediction p = expected.get(k++);
                List<String> got = r.getList(2);
                assertEquals(p.labels(), got, "row " + i);
                labelled += got.isEmpty() ? 0 : 1;
            }
            assertTrue(labelled > 0, "some texts have labels above 0.5");
        }
    }

    @Test
    void failPolicyNamesTheRowAndPartition() {
        Dataset<Row> df = LocalSpark.texts(LocalSpark.sampleTexts(), 1);
        SparkException e = assertThrows(SparkException.class, () -> new TextClassifierTransformer()
                .setModelPath(single.toString()).setEmptyTextPolicy("fail").transform(df).collectAsList());
        String m = rootMessage(e);
        assertTrue(m.contains("the text column 'text' is null in row 3 of partition 0"), m);
        assertTrue(m.contains("emptyTextPolicy"), m);
    }

    @Test
    void badSetupsGiveClearErrors() {
        Dataset<Row> df = LocalSpark.texts(List.of("a text"), 1);
        String missing = assertThrows(IllegalArgumentException.class, () -> new TextClassifierTransformer()
                .setModelPath(single.toString()).setInputCol("review").transform(df)).getMessage();
        assertTrue(missing.contains("'review' is not in the data; its columns are [id, text]"), missing);
        String bare = assertThrows(IllegalArgumentException.class, () -> new TextClassifierTransformer()
                .setModelPath(encoder.toString()).transform(df)).getMessage();
        assertTrue(bare.contains("is a bare encoder (bert) with no classification head"), bare);
        String kind = assertThrows(IllegalArgumentException.class, () -> new TextClassifierTransformer()
                .setModelPath(multi.toString()).setProblemType("single_label").transform(df)).getMessage();
        assertTrue(kind.contains("is a multi-label classifier (labels [sports, politics, tech]), but problemType is single_label"),
                kind);
        String nowhere = assertThrows(IllegalArgumentException.class, () -> new TextClassifierTransformer()
                .setModelPath(tmp.resolve("no-such-model").toString()).transform(df)).getMessage();
        assertTrue(nowhere.contains("the model path " + tmp.resolve("no-such-model") + " cannot be read on host"), nowhere);
        String taken = assertThrows(IllegalArgumentException.class, () -> new TextClassifierTransformer()
                .setModelPath(single.toString()).setPredictionCol("id").transform(df)).getMessage();
        assertTrue(taken.contains("the output column 'id' already exists"), taken);
    }

    /** Spark output rows (id, text, prediction, score, probability) against TextClassifier on the non-empty texts. */
    static void assertSameAsTextClassifier(List<String> texts, List<Row> out) {
        assertEquals(texts.size(), out.size());
        List<String> kept = new ArrayList<>();
        for (String t : texts) {
            if (!EmptyTextPolicy.isEmpty(t)) {
                kept.add(t);
            }
        }
        try (TextClassifier clf = TextClassifier.load(single)) {
            List<Prediction> expected = clf.predictBatch(kept);
            float[][] probs = clf.probabilities(kept, null);
            int k = 0;
            for (int i = 0; i < texts.size(); i++) {
                Row r = out.get(i);
                assertEquals(i, r.getInt(0), "input order");
                if (EmptyTextPolicy.isEmpty(texts.get(i))) {
                    assertNull(r.get(2), "row " + i);
                    assertNull(r.get(3));
                    assertNull(r.get(4));
                    continue;
                }
                Prediction p = expected.get(k);
                assertEquals(p.label(), r.getString(2), "row " + i);
                assertEquals(p.score(), r.getDouble(3), 1e-5);
                double[] want = new double[probs[k].length];
                for (int c = 0; c < want.length; c++) {
                    want[c] = probs[k][c];
                }
                assertArrayEquals(want, ((Vector) r.get(4)).toArray(), 1e-5, "row " + i);
                k++;
            }
        }
    }

    static long cachedWith(Path model) {
        return ModelCache.keys().stream().filter(key -> key.modelPath().equals(model.toString())).count();
    }

    static String rootMessage(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t.getMessage()).append('\n');
        }
        return b.toString();
    }
}
