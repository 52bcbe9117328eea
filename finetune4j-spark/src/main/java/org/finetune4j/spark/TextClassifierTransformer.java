package org.finetune4j.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.attribute.NumericAttribute;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.finetune4j.api.Prediction;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;

/**
 * A finetune4j classifier as a Spark ML {@code Transformer}: the text in {@code inputCol} gets the
 * predicted label in {@code predictionCol} (a string; for a multi-label model an array of every label
 * above 0.5), the label's probability in {@code scoreCol}, and optionally every class's probability in
 * {@code probabilityCol} (a vector in label-id order, the label names in the column's ML attributes).
 * Labels, cleaning, truncation and a binary model's decision threshold are the model's, as
 * {@link TextClassifier} applies them: the outputs equal {@code TextClassifier.predictBatch}'s.
 *
 * <pre>
 * TextClassifierTransformer clf = new TextClassifierTransformer()
 *         .setModelPath("hdfs:///models/tweets").setInputCol("text").setProbabilityCol("probability");
 * Dataset&lt;Row&gt; scored = clf.transform(df);   // or new Pipeline().setStages(...)
 * </pre>
 */
public final class TextClassifierTransformer extends TextStage<TextClassifierTransformer> {
    private static final long serialVersionUID = 1L;

    private final Param<String> predictionCol;
    private final Param<String> scoreCol;
    private final Param<String> probabilityCol;
    private final Param<String> adapterPath;
    private final Param<String> precision;
    private final Param<String> problemType;

    public TextClassifierTransformer() {
        this(Identifiable.randomUID("finetune4jClassifier"));
    }

    public TextClassifierTransformer(String uid) {
        super(uid);
        predictionCol = new Param<>(this, "predictionCol", "the predicted label (multi-label: an array of labels)");
        scoreCol = new Param<>(this, "scoreCol", "the predicted label's probability; empty: no such column");
        probabilityCol = new Param<>(this, "probabilityCol", "every class's probability as a vector in label-id order;"
                + " empty: no such column");
        adapterPath = new Param<>(this, "adapterPath", "a LoRA adapter directory for the model at modelPath; empty: none");
        precision = new Param<>(this, "precision", "fp32, or bf16 matrix products where the CPU supports them (process-wide"
                + " in each executor)", ParamValidators.inArray(new String[] {"fp32", "bf16"}));
        problemType = new Param<>(this, "problemType", "the kind of model expected: auto (whatever the model is),"
                + " single_label or multi_label (a model of the other kind is an error)",
                ParamValidators.inArray(new String[] {"auto", "single_label", "multi_label"}));
        setDefault(predictionCol, "prediction");
        setDefault(scoreCol, "score");
        setDefault(probabilityCol, "");
        setDefault(adapterPath, "");
        setDefault(precision, "fp32");
        setDefault(problemType, "auto");
    }

    /** For {@code Pipeline.load} and {@code TextClassifierTransformer.load}: the stage's params from their saved JSON. */
    public static MLReader<TextClassifierTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static TextClassifierTransformer load(String path) {
        return read().load(path);
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    public Param<String> scoreCol() {
        return scoreCol;
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public Param<String> adapterPath() {
        return adapterPath;
    }

    public Param<String> precision() {
        return precision;
    }

    public Param<String> problemType() {
        return problemType;
    }

    public TextClassifierTransformer setPredictionCol(String v) {
        return put(predictionCol, v);
    }

    public TextClassifierTransformer setScoreCol(String v) {
        return put(scoreCol, v);
    }

    public TextClassifierTransformer setProbabilityCol(String v) {
        return put(probabilityCol, v);
    }

    public TextClassifierTransformer setAdapterPath(String v) {
        return put(adapterPath, v);
    }

    public TextClassifierTransformer setPrecision(String v) {
        return put(precision, v);
    }

    public TextClassifierTransformer setProblemType(String v) {
        return put(problemType, v);
    }

    public String getPredictionCol() {
        return $(predictionCol);
    }

    public String getScoreCol() {
        return $(scoreCol);
    }

    public String getProbabilityCol() {
        return $(probabilityCol);
    }

    public String getAdapterPath() {
        return $(adapterPath);
    }

    public String getPrecision() {
        return $(precision);
    }

    public String getProblemType() {
        return $(problemType);
    }

    /**
     * The model's config as the driver reads it (labels, problem type), checked to be a classifier of
     * the expected kind.
     */
    public ModelConfig modelConfig() {
        String where = getModelPath() + (getAdapterPath().isEmpty() ? "" : " with adapter " + getAdapterPath());
        Path dir = ModelFiles.local(getModelPath());
        ModelConfig c = getAdapterPath().isEmpty() ? ModelConfig.read(dir)
                : TextClassifier.adapterClassifierConfig(dir, ModelFiles.local(getAdapterPath()));
        if (!c.isClassifier()) {
            throw new IllegalArgumentException("the model " + where + " is a bare encoder (" + c.encoder().modelType()
                    + ") with no classification head: fine-tune it first (./finetune4j train), or use"
                    + " SentenceEmbeddingTransformer for embeddings");
        }
        String expected = getProblemType();
        String actual = c.problemType() == ProblemType.MULTI_LABEL ? "multi_label" : "single_label";
        if (!expected.equals("auto") && !expected.equals(actual)) {
            throw new IllegalArgumentException("the model " + where + " is a " + actual.replace('_', '-')
                    + " classifier (labels " + c.labels() + "), but problemType is " + expected
                    + ": use a " + expected.replace('_', '-') + " model, or set problemType to auto or " + actual);
        }
        return c;
    }

    @Override
    protected List<StructField> outputFields() {
        ModelConfig c = modelConfig();
        List<StructField> f = new ArrayList<>();
        f.add(DataTypes.createStructField(getPredictionCol(), c.problemType() == ProblemType.MULTI_LABEL
                ? DataTypes.createArrayType(DataTypes.StringType, false) : DataTypes.StringType, true));
        if (!getScoreCol().isEmpty()) {
            f.add(DataTypes.createStructField(getScoreCol(), DataTypes.DoubleType, true));
        }
        if (!getProbabilityCol().isEmpty()) {
            Attribute[] attrs = c.labels().stream().map(l -> NumericAttribute.defaultAttr().withName(l)).toArray(Attribute[]::new);
            StructField g = new AttributeGroup(getProbabilityCol(), attrs).toStructField(); // not nullable: a skipped row's is null
            f.add(new StructField(g.name(), g.dataType(), true, g.metadata()));
        }
        return f;
    }

    @Override
    protected RowScorer scorer() {
        ModelConfig c = modelConfig();
        return new Scorer(getModelPath(), getAdapterPath().isEmpty() ? null : getAdapterPath(), getMaxLength(), getBatchSize(),
                getPrecision(), c.problemType() == ProblemType.MULTI_LABEL, !getScoreCol().isEmpty(),
                !getProbabilityCol().isEmpty());
    }

    /** The executor side: the cached classifier's probabilities for a window of texts, as output values. */
    private record Scorer(String modelPath, String adapterPath, int maxLength, int batchSize, String precision,
            boolean multiLabel, boolean withScore, boolean withProbabilities) implements RowScorer {

        @Override
        public Object[][] score(List<String> texts) {
            int cpus = TaskContext.get() == null ? 1 : TaskContext.get().cpus();
            TextClassifier clf = ModelCache.classifier(modelPath, adapterPath, maxLength, cpus);
            ModelCache.usePrecision(precision);
            float[][] probs = clf.probabilities(clf.logits(texts, null, batchSize, null));
            Object[][] out = new Object[texts.size()][];
            for (int i = 0; i < probs.length; i++) {
                Prediction p = clf.prediction(probs[i]);
                Object[] v = new Object[width()];
                int k = 0;
                v[k++] = multiLabel ? p.labels().toArray(String[]::new) : p.label();
                if (withScore) {
                    v[k++] = p.score();
                }
                if (withProbabilities) {
                    double[] d = new double[probs[i].length];
                    for (int j = 0; j < d.length; j++) {
                        d[j] = probs[i][j];
                    }
                    v[k] = Vectors.dense(d);
                }
                out[i] = v;
            }
            return out;
        }

        @Override
        public int width() {
            return 1 + (withScore ? 1 : 0) + (withProbabilities ? 1 : 0);
        }
    }
}
