package org.finetune4j.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.finetune4j.testing.TinyModels;

/** A tiny random 3-class BERT classifier directory (core's test fixtures), with an eval_results.json beside it. */
final class TinyClassifier {
    static final List<String> LABELS = List.of("billing", "delivery", "technical");
    static final String EVAL_RESULTS = "{\"eval_loss\": 1.0986, \"eval_accuracy\": 0.3333, \"eval_macro_f1\": 0.25, \"epoch\": 1.0}";

    private TinyClassifier() {
    }

    static void write(Path dir) {
        TinyModels.save(TinyModels.classifier(TinyModels.bert(), LABELS), 7, dir);
        try {
            Files.writeString(dir.resolve("eval_results.json"), EVAL_RESULTS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
