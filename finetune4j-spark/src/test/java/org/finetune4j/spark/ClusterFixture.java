package org.finetune4j.spark;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.finetune4j.testing.TinyModels;

/**
 * The inputs of scripts/spark-cluster.sh: a tiny random classifier directory and a CSV (id,text) of
 * {@code rows} short texts, every 997th one empty. Seeded, so every run gets the same files.
 * Usage: {@code ClusterFixture MODEL_DIR INPUT_CSV ROWS}.
 */
public final class ClusterFixture {
    private ClusterFixture() {
    }

    public static void main(String[] args) throws IOException {
        Path model = Path.of(args[0]);
        Path csv = Path.of(args[1]);
        int rows = Integer.parseInt(args[2]);
        TinyModels.save(TinyModels.classifier(TinyModels.bert(), List.of("negative", "positive", "neutral")), 23, model);
        String[] words = {"the", "film", "was", "a", "wonderful", "terrible", "boring", "story", "of", "love", "and", "loss",
            "acting", "plot", "music", "not", "very", "good", "bad", "ending", "i", "would", "watch", "it", "again"};
        SplittableRandom r = new SplittableRandom(29);
        Files.createDirectories(csv.toAbsolutePath().getParent());
        try (Writer w = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
            w.write("id,text\n");
            for (int i = 0; i < rows; i++) {
                StringBuilder b = new StringBuilder();
                if (i % 997 != 0) {
                    int n = 3 + r.nextInt(40);
                    for (int k = 0; k < n; k++) {
                        b.append(k == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
                    }
                }
                w.write(i + ",\"" + b + "\"\n");
            }
        }
    }
}
