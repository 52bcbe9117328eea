package org.finetune4j.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.data.Dataset;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.lora.Lora;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.metrics.ClassificationMetrics;
import org.finetune4j.metrics.ClassificationReport;
import org.finetune4j.metrics.PrecisionRecallCurve;
import org.finetune4j.metrics.RocCurve;
import org.finetune4j.report.Misclassified;
import org.finetune4j.report.ReportWriter;
import org.finetune4j.report.RunReport;
import org.finetune4j.train.Trainer;
import org.finetune4j.train.TrainingConfig;

/**
 * What a finished run leaves beside its model: run_config.json (every setting, the data counts and the
 * results), report.html with its charts, misclassified.csv, and JSON written atomically.
 */
final class RunArtifacts {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper SNAKE = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    /** Validation examples listed in the report and misclassified.csv, most confident mistakes first. */
    private static final int MISCLASSIFIED_SHOWN = 25;

    private RunArtifacts() {
    }

    static Map<String, Object> runConfig(FineTuning.Spec spec, Path modelDir, HeadConfig head, FineTuning.Prepared data,
            Map<String, Object> facts) {
        Map<String, Object> rc = new LinkedHashMap<>();
        rc.put("model", spec.model());
        rc.put("model_dir", modelDir.toAbsolutePath().toString());
        Map<String, Object> d = new LinkedHashMap<>();
        DataSpec ds = spec.data();
        d.put("train", ds.train().toString());
        d.put("validation", ds.validation() == null ? null : ds.validation().toString());
        d.put("test", ds.test() == null ? null : ds.test().toString());
        d.put("split", ds.split());
        if (ds.splitSeed() != null) {
            d.put("split_seed", ds.splitSeed()); // only when it differs from the run's seed: older run_config.json files match
        }
        d.put("read", SNAKE.valueToTree(ds.read()));
        d.put("cleaning", SNAKE.valueToTree(ds.cleaner()));
        d.put("drop_duplicates", ds.dropDuplicates());
        d.put("drop_empty", ds.dropEmpty());
        d.put("sizes", Map.of("train", data.train().size(), "validation", data.validation() == null ? 0 : data.validation().size(),
                "test", data.test() == null ? 0 : data.test().size()));
        d.put("labels", data.labels().names());
        rc.put("data", d);
        rc.put("head", SNAKE.valueToTree(head));
        rc.put("problem_type", spec.multiLabel() ? "multi_label_classification" : "single_label_classification");
        rc.put("training", SNAKE.valueToTree(spec.training()));
        rc.put("precision", org.finetune4j.nn.Precision.current().label()); // of the linear layers' products
        if (spec.lora() != null) {
            try {
                rc.put("lora", JSON.readTree(spec.lora().toJson()));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        if (facts != null) {
            rc.put("results", facts); // null at the start of a run: the file then says what the run is
        }
        // Whether full fine-tuning could run its layers' hand-written backward on the fused C kernels, or why not.
        String fused = org.finetune4j.nn.FusedKernels.available() ? "loaded" : org.finetune4j.nn.FusedKernels.unavailableReason();
        rc.put("environment", Map.of("java", System.getProperty("java.version"), "os", System.getProperty("os.name") + " "
                + System.getProperty("os.arch"), "cpus", Runtime.getRuntime().availableProcessors(), "fused_kernels", fused));
        return rc;
    }

    static void writeReport(Path out, FineTuning.Spec spec, FineTuning.Prepared data, Trainer.Result result, Map<String, Double> valMetrics,
            Map<String, Double> testMetrics, FineTuning.Final fv, Map<String, Object> facts, TrainingConfig cfg) {
        RunReport.Builder b = RunReport.builder("finetune4j run: " + spec.model() + ", " + cfg.strategy().id())
                .modelId(spec.model()).strategy(cfg.strategy().id())
                .dataset(spec.data().train().getFileName() + " (" + data.train().size() + " train"
                        + (data.validation() == null ? "" : ", " + data.validation().size() + " validation")
                        + (data.test() == null ? "" : ", " + data.test().size() + " test") + ")")
                .logHistory(result.logHistory()).finalMetrics(valMetrics).testMetrics(testMetrics).labelNames(data.labels().names())
                .trained(new RunReport.Trained(result.epochs(), result.globalStep(), bestStep(result, cfg)));
        Map<String, String> f = new LinkedHashMap<>();
        facts.forEach((k, v) -> f.put(k, v instanceof Double x ? String.format("%.4g", x) : String.valueOf(v)));
        b.facts(f);
        b.trainingConfig(SNAKE.convertValue(cfg, Map.class));
        if (fv != null && fv.report() != null) {
            ClassificationReport r = fv.report();
            b.confusionMatrix(r.confusionMatrix().counts()).classificationReport(fv.text());
            if (r.isBinary()) {
                double[] scores = new double[fv.probs().length];
                for (int i = 0; i < scores.length; i++) {
                    scores[i] = fv.probs()[i][1];
                }
                boolean bothClasses = java.util.Arrays.stream(fv.gold()).distinct().count() == 2;
                if (bothClasses) {
                    b.roc(RocCurve.of(fv.gold(), scores));
                    b.precisionRecall(PrecisionRecallCurve.of(fv.gold(), scores));
                }
            }
            List<Misclassified> wrong = misclassified(data.validation(), data.labels().names(), fv, result, cfg);
            b.misclassified(wrong);
            writeMisclassified(out.resolve("misclassified.csv"), wrong);
        } else if (fv != null) {
            b.classificationReport(fv.text());
        }
        ReportWriter.write(out, b.build());
    }

    /** The step whose weights were saved when the run ended with its best checkpoint, else null (the last step's). */
    private static Long bestStep(Trainer.Result result, TrainingConfig cfg) {
        if (!cfg.loadBestModelAtEnd() || result.bestCheckpoint() == null) {
            return null;
        }
        String name = result.bestCheckpoint().getFileName().toString(); // checkpoint-N
        return Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
    }

    private static List<Misclassified> misclassified(Dataset val, List<String> labels, FineTuning.Final fv, Trainer.Result result,
            TrainingConfig cfg) {
        int[] pred = ClassificationMetrics.predictions(fv.probs(), fv.report() == null ? null
                : fv.report().binary() == null ? null : fv.report().binary().threshold());
        List<Misclassified> out = new ArrayList<>();
        for (int i = 0; i < pred.length; i++) {
            if (pred[i] != fv.gold()[i]) {
                out.add(new Misclassified(val.get(i).text(), labels.get(fv.gold()[i]), labels.get(pred[i]), fv.probs()[i][pred[i]]));
            }
        }
        out.sort(Comparator.comparingDouble(Misclassified::score).reversed());
        return out.subList(0, Math.min(MISCLASSIFIED_SHOWN, out.size()));
    }

    private static void writeMisclassified(Path file, List<Misclassified> rows) {
        AtomicFiles.write(file, o -> {
            var w = new java.io.OutputStreamWriter(o, java.nio.charset.StandardCharsets.UTF_8);
            try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader("text", "gold", "predicted", "score").build())) {
                for (Misclassified m : rows) {
                    p.printRecord(m.text(), m.goldLabel(), m.predictedLabel(), m.score());
                }
            }
        });
    }

    static long directorySize(Path out, boolean adapterOnly) {
        List<String> files = adapterOnly ? List.of(Lora.WEIGHTS_FILE, LoraConfig.FILE)
                : List.of("model.safetensors", "config.json");
        long total = 0;
        for (String f : files) {
            try {
                total += Files.exists(out.resolve(f)) ? Files.size(out.resolve(f)) : 0;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return total;
    }

    static void writeJson(Path file, Object value) {
        try {
            AtomicFiles.writeString(file, JSON.writeValueAsString(value) + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
