package org.finetune4j.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** One Spark session in local mode ({@code local[2]}, loopback only, no UI) for every test class of this JVM. */
final class LocalSpark {
    private static SparkSession session;

    private LocalSpark() {
    }

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder().master("local[2]").appName("finetune4j-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.hadoop.fs." + SchemeLocalFileSystem.SCHEME + ".impl", SchemeLocalFileSystem.class.getName())
                    .getOrCreate();
        }
        return session;
    }

    /** Rows (id, text) in {@code partitions} partitions, in the order of {@code texts}. */
    static Dataset<Row> texts(List<String> texts, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            rows.add(RowFactory.create(i, texts.get(i)));
        }
        StructType schema = new StructType().add("id", DataTypes.IntegerType, false).add("text", DataTypes.StringType, true);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(session().sparkContext());
        return session().createDataFrame(jsc.parallelize(rows, partitions), schema);
    }

    /** Sentences of many lengths, with nulls, an empty and a blank text among them. */
    static List<String> sampleTexts() {
        String[] words = {"forest", "fire", "near", "la", "ronge", "the", "movie", "was", "wonderful", "terrible", "and",
            "i", "loved", "every", "minute", "of", "it", "not", "worth", "watching"};
        List<String> out = new ArrayList<>();
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        for (int i = 0; i < 50; i++) {
            if (i == 3 || i == 27) {
                out.add(null);
            } else if (i == 10) {
                out.add("");
            } else if (i == 41) {
                out.add("   ");
            } else {
                StringBuilder b = new StringBuilder();
                int n = 1 + r.nextInt(i % 7 == 0 ? 60 : 12);
                for (int w = 0; w < n; w++) {
                    b.append(w == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
                }
                out.add(b.toString());
            }
        }
        return out;
    }
}
