package org.finetune4j.spark;

import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.finetune4j.api.SentenceEncoder;
import org.finetune4j.config.Pooling;

/**
 * Sentence embeddings as a Spark ML {@code Transformer}: the text in {@code inputCol} gets a Spark ML
 * vector in {@code outputCol}, the model's last hidden states pooled ({@code pooling}: mean or cls) and
 * optionally L2-normalised ({@code normalize}), as {@link SentenceEncoder#encode} computes them. Any
 * model directory works; a classifier's head is ignored.
 */
public final class SentenceEmbeddingTransformer extends TextStage<SentenceEmbeddingTransformer> {
    private static final long serialVersionUID = 1L;

    private final Param<String> outputCol;
    private final Param<String> pooling;
    private final BooleanParam normalize;

    public SentenceEmbeddingTransformer() {
        this(Identifiable.randomUID("finetune4jEmbedding"));
    }

    public SentenceEmbeddingTransformer(String uid) {
        super(uid);
        outputCol = new Param<>(this, "outputCol", "the embedding vector column");
        pooling = new Param<>(this, "pooling", "mean (over real tokens) or cls (the first token)",
                ParamValidators.inArray(new String[] {"mean", "cls"}));
        normalize = new BooleanParam(this, "normalize", "scale each embedding to unit length (for cosine similarity)");
        setDefault(outputCol, "embedding");
        setDefault(pooling, "mean");
        setDefault(normalize, false);
    }

    /** For {@code Pipeline.load} and {@code SentenceEmbeddingTransformer.load}: the stage's params from their saved JSON. */
    public static MLReader<SentenceEmbeddingTransformer> read() {
        return new DefaultParamsReader<>();
    }

    public static SentenceEmbeddingTransformer load(String path) {
        return read().load(path);
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> pooling() {
        return pooling;
    }

    public BooleanParam normalize() {
        return normalize;
    }

    public SentenceEmbeddingTransformer setOutputCol(String v) {
        return put(outputCol, v);
    }

    public SentenceEmbeddingTransformer setPooling(String v) {
        return put(pooling, v);
    }

    public SentenceEmbeddingTransformer setNormalize(boolean v) {
        return put(normalize, v);
    }

    public String getOutputCol() {
        return $(outputCol);
    }

    public String getPooling() {
        return $(pooling);
    }

    public boolean getNormalize() {
        return (Boolean) $(normalize);
    }

    @Override
    protected List<StructField> outputFields() {
        return List.of(DataTypes.createStructField(getOutputCol(), SQLDataTypes.VectorType(), true));
    }

    @Override
    protected RowScorer scorer() {
        return new Scorer(getModelPath(), getMaxLength(), getPooling(), getNormalize());
    }

    /** The executor side: the cached encoder's vectors for a window of texts. */
    private record Scorer(String modelPath, int maxLength, String pooling, boolean normalize) implements RowScorer {
        @Override
        public Object[][] score(List<String> texts) {
            int cpus = TaskContext.get() == null ? 1 : TaskContext.get().cpus();
            SentenceEncoder enc = ModelCache.encoder(modelPath, maxLength, cpus);
            float[][] e = enc.encode(texts, Pooling.parse(pooling), normalize);
            Object[][] out = new Object[texts.size()][];
            for (int i = 0; i < e.length; i++) {
                double[] d = new double[e[i].length];
                for (int j = 0; j < d.length; j++) {
                    d[j] = e[i][j];
                }
                out[i] = new Object[] {Vectors.dense(d)};
            }
            return out;
        }

        @Override
        public int width() {
            return 1;
        }
    }
}
