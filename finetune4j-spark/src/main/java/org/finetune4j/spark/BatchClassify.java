package org.finetune4j.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.io.CheckpointException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The batch job for spark-submit: reads texts (CSV, JSON Lines or Parquet), classifies them with
 * {@link TextClassifierTransformer}, and writes one row per input row through Spark's output committers
 * (a retried or speculative task's files never appear twice; a failed job leaves no partial output).
 *
 * <pre>
 * spark-submit --class org.finetune4j.spark.BatchClassify finetune4j-spark-VERSION-with-deps.jar \
 *     --model DIR --input PATH --format csv --text-column text --output PATH [--id-column id] [--probabilities]
 * </pre>
 *
 * The output has the input's columns (only the id column with --id-column), then {@code prediction}
 * and {@code score}, and with --probabilities one {@code prob_<label>} column per class, in the input
 * format unless --output-format says otherwise. A multi-label model's labels are an array (in CSV,
 * joined with '|').
 */
@Command(name = "BatchClassify", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = "Classify a file of texts with a finetune4j model on Spark, one output row per input row.")
public final class BatchClassify implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "The model directory: a local path every node has, a Hadoop"
            + " path (hdfs://, s3a://), or the name given to --archives model.tar.gz#NAME.")
    String model;

    @Option(names = "--adapter", description = "A LoRA adapter directory for --model (same forms as --model).")
    String adapter;

    @Option(names = "--input", required = true, description = "The input file or directory (any Hadoop path).")
    String input;

    @Option(names = "--format", required = true, description = "csv, json (JSON Lines) or parquet.")
    String format;

    @Option(names = "--delimiter", defaultValue = ",", description = "The CSV field separator (\\t for TSV, which has no quoting).")
    String delimiter;

    @Option(names = "--text-column", defaultValue = "text", description = "The column holding the texts.")
    String textColumn;

    @Option(names = "--id-column", description = "Write only this column of the input beside the predictions.")
    String idColumn;

    @Option(names = "--output", required = true, description = "The output directory (any Hadoop path).")
    String output;

    @Option(names = "--output-format", description = "csv, json or parquet (default: --format).")
    String outputFormat;

    @Option(names = "--probabilities", description = "Add one prob_<label> column per class.")
    boolean probabilities;

    @Option(names = "--overwrite", description = "Replace --output if it exists.")
    boolean overwrite;

    @Option(names = "--partitions", defaultValue = "0", description = "Repartition the input into this many partitions"
            + " (0: as read; a single CSV or gzip file is one partition).")
    int partitions;

    @Option(names = "--batch-size", defaultValue = "32", description = "Texts per forward pass.")
    int batchSize;

    @Option(names = "--max-length", defaultValue = "0", description = "Truncation in tokens (0: the model's).")
    int maxLength;

    @Option(names = "--precision", defaultValue = "fp32", description = "fp32, or bf16 where the CPU supports it.")
    String precision;

    @Option(names = "--problem-type", defaultValue = "auto", description = "auto, or single_label / multi_label: refuse a"
            + " model of the other kind before anything runs.")
    String problemType;

    @Option(names = "--empty-text", defaultValue = "skip", description = "A null or blank text: skip (null prediction) or"
            + " fail (the job fails naming the row).")
    String emptyText;

    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().appName("finetune4j BatchClassify").getOrCreate();
        int code;
        try {
            code = run(args);
        } finally {
            spark.stop();
        }
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Runs the job on the active Spark session and returns the exit code (tests call this). */
    public static int run(String... args) {
        return run(new PrintWriter(System.err, true), args);
    }

    /** {@link #run(String...)} with its error messages written to {@code err}. */
    static int run(PrintWriter err, String... args) {
        CommandLine cl = new CommandLine(new BatchClassify());
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof CheckpointException) {
                err.println("error: " + e.getMessage());
                err.flush();
                return 2;
            }
            e.printStackTrace(err);
            err.flush();
            return 1;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() throws IOException {
        SparkSession spark = SparkSession.active();
        String outFormat = outputFormat == null ? format : outputFormat;
        checkFormat("--format", format);
        checkFormat("--output-format", outFormat);
        checkPaths(spark);

        Dataset<Row> in = read(spark);
        List<String> columns = Arrays.asList(in.columns());
        if (!columns.contains(textColumn)) {
            throw new IllegalArgumentException("--text-column " + textColumn + ": " + input + " has no such column; its columns are "
                    + columns);
        }
        if (idColumn != null && !columns.contains(idColumn)) {
            throw new IllegalArgumentException("--id-column " + idColumn + ": " + input + " has no such column; its columns are "
                    + columns);
        }
        if (partitions > 0) {
            in = in.repartition(partitions);
        }
        TextClassifierTransformer clf = new TextClassifierTransformer().setModelPath(model).setInputCol(textColumn)
                .setPredictionCol("prediction").setScoreCol("score").setProbabilityCol(probabilities ? "probability" : "")
                .setBatchSize(batchSize).setMaxLength(maxLength).setPrecision(precision).setEmptyTextPolicy(emptyText)
                .setProblemType(problemType);
        if (adapter != null) {
            clf.setAdapterPath(adapter);
        }
        ModelConfig config = clf.modelConfig();
        Dataset<Row> out = clf.transform(in);

        List<Column> select = new ArrayList<>();
        for (String c : idColumn == null ? columns : List.of(idColumn)) {
            select.add(out.col(c));
        }
        boolean array = out.schema().apply("prediction").dataType() instanceof ArrayType;
        select.add(array && outFormat.equals("csv") ? org.apache.spark.sql.functions.concat_ws("|", out.col("prediction")).as("prediction")
                : out.col("prediction"));
        select.add(out.col("score"));
        if (probabilities) {
            Column v = out.col("probability");
            Column p = org.apache.spark.sql.functions.when(v.isNotNull(), functions.vector_to_array(v, "float64")); // skipped rows: null
            for (int c = 0; c < config.labels().size(); c++) {
                select.add(p.getItem(c).as("prob_" + config.labels().get(c)));
            }
        }
        long start = System.nanoTime();
        var writer = out.select(select.toArray(Column[]::new)).write().format(outFormat)
                .mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
        if (outFormat.equals("csv")) {
            writer = writer.option("header", "true").option("escape", "\"");
        }
        writer.save(output);
        System.err.printf("finetune4j: wrote predictions for %s to %s in %.1f s%n", input, output, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private Dataset<Row> read(SparkSession spark) {
        DataFrameReader r = spark.read().format(format);
        if (format.equals("csv")) {
            String sep = delimiter.equals("\\t") ? "\t" : delimiter;
            r = r.option("header", "true").option("sep", sep).option("mode", "FAILFAST");
            // RFC 4180 quoting ("" inside quotes, newlines allowed in quoted fields); a TSV has none.
            r = sep.equals("\t") ? r.option("quote", "\u0000") : r.option("escape", "\"").option("multiLine", "true");
        }
        return r.load(input);
    }

    private static void checkFormat(String option, String f) {
        if (!List.of("csv", "json", "parquet").contains(f)) {
            throw new IllegalArgumentException(option + " " + f + ": use csv, json (JSON Lines) or parquet");
        }
    }

    /** The input must exist and the output must not (unless --overwrite): checked before any model loads. */
    private void checkPaths(SparkSession spark) throws IOException {
        var conf = spark.sparkContext().hadoopConfiguration();
        Path in = new Path(input);
        FileSystem inFs = in.getFileSystem(conf);
        if (!inFs.exists(in)) {
            throw new IllegalArgumentException("--input " + input + " does not exist");
        }
        Path out = new Path(output);
        if (!overwrite && out.getFileSystem(conf).exists(out)) {
            throw new IllegalArgumentException("--output " + output + " already exists: choose another path, or give --overwrite"
                    + " to replace it");
        }
    }
}
