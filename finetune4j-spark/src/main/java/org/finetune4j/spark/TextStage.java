package org.finetune4j.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What the finetune4j Spark stages share: a text column in, a model directory, batching and the
 * empty-text policy as {@code Param}s, the schema checks, and the transform itself ({@link WindowedPartition}
 * in {@code mapPartitions}). Saved and loaded with Spark's default params writer, so a {@code Pipeline}
 * holding a stage saves and loads back (the model directory is referenced by path, not copied).
 *
 * @param <S> the stage's own type, so setters chain
 */
abstract class TextStage<S extends TextStage<S>> extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    /** Rows read at once per task, in batches: the window the model sorts by length. */
    static final int WINDOW_BATCHES = 8;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> modelPath;
    private final IntParam batchSize;
    private final IntParam maxLength;
    private final Param<String> emptyTextPolicy;

    protected TextStage(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "the text column");
        modelPath = new Param<>(this, "modelPath", "the model directory: a local path, a Hadoop path (hdfs://, s3a://, file:)"
                + " or the name of a directory shipped with spark-submit --archives");
        batchSize = new IntParam(this, "batchSize", "texts per forward pass", ParamValidators.gtEq(1));
        maxLength = new IntParam(this, "maxLength", "truncation length in tokens; 0: the length the model was trained with",
                ParamValidators.gtEq(0));
        emptyTextPolicy = new Param<>(this, "emptyTextPolicy", "a null or blank text: skip (null outputs) or fail (the task"
                + " fails naming the row)", ParamValidators.inArray(EmptyTextPolicy.IDS));
        setDefault(inputCol, "text");
        setDefault(batchSize, 32);
        setDefault(maxLength, 0);
        setDefault(emptyTextPolicy, "skip");
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> modelPath() {
        return modelPath;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public IntParam maxLength() {
        return maxLength;
    }

    public Param<String> emptyTextPolicy() {
        return emptyTextPolicy;
    }

    public String getInputCol() {
        return $(inputCol);
    }

    public String getModelPath() {
        return $(modelPath);
    }

    public int getBatchSize() {
        return (Integer) $(batchSize);
    }

    public int getMaxLength() {
        return (Integer) $(maxLength);
    }

    public String getEmptyTextPolicy() {
        return $(emptyTextPolicy);
    }

    public S setInputCol(String v) {
        return put(inputCol, v);
    }

    public S setModelPath(String v) {
        return put(modelPath, v);
    }

    public S setBatchSize(int v) {
        return put(batchSize, v);
    }

    public S setMaxLength(int v) {
        return put(maxLength, v);
    }

    public S setEmptyTextPolicy(String v) {
        return put(emptyTextPolicy, v);
    }

    @SuppressWarnings("unchecked")
    protected final <T> S put(Param<T> p, T value) {
        set(p, value);
        return (S) this;
    }

    /** The output columns, checked against the model on the driver (its config.json is read there). */
    protected abstract List<StructField> outputFields();

    /** The executor side of this stage, from its params. */
    protected abstract RowScorer scorer();

    @Override
    public StructType transformSchema(StructType schema) {
        String col = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(col)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": the input column '" + col + "' is not in the"
                    + " data; its columns are " + Arrays.toString(schema.fieldNames()) + ". Set inputCol to the text column.");
        }
        if (!schema.apply(col).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": the input column '" + col + "' holds "
                    + schema.apply(col).dataType().simpleString() + ", not text (string)");
        }
        if (!isDefined(modelPath)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no modelPath set: give the model directory");
        }
        List<StructField> fields = new ArrayList<>(Arrays.asList(schema.fields()));
        for (StructField f : outputFields()) {
            if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": the output column '" + f.name()
                        + "' already exists in the data; choose another name for it");
            }
            fields.add(f);
        }
        return new StructType(fields.toArray(StructField[]::new));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        String col = getInputCol();
        WindowedPartition f = new WindowedPartition(scorer(), dataset.schema().fieldIndex(col), col,
                WINDOW_BATCHES * getBatchSize(), EmptyTextPolicy.parse(getEmptyTextPolicy()));
        Dataset<Row> result = dataset.toDF().mapPartitions(f, Encoders.row(out));
        for (StructField field : out.fields()) { // the row encoder drops column metadata (e.g. ML attributes): put it back
            if (field.metadata().json().length() > 2) {
                result = result.withMetadata(field.name(), field.metadata());
            }
        }
        return result;
    }

    @Override
    public S copy(ParamMap extra) {
        return defaultCopy(extra);
    }
}
