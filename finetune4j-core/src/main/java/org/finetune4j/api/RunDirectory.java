package org.finetune4j.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The output directory of a training run. A directory that already holds a run is never overwritten
 * unless the user says so; even then only what a run writes is deleted, and a directory holding
 * anything else is refused, so a mistyped --output cannot wipe unrelated files.
 */
public final class RunDirectory {
    /** File names a run writes (beside checkpoint-N directories and report charts). */
    static final Set<String> RUN_FILES = Set.of("config.json", "model.safetensors", "model.safetensors.index.json",
            "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json", "training_args.json",
            "run_config.json", "metrics.jsonl", "trainer_state.json", "eval_results.json", "test_results.json",
            "classification_report.txt", "classification_report.json", "test_classification_report.txt",
            "test_classification_report.json", "report.html", "adapter_config.json", "adapter_model.safetensors",
            "classifier_config.json", "misclassified.csv", "merged", "README.md");
    private static final Pattern RUN_PATTERNS = Pattern.compile(
            "checkpoint-\\d+|\\.checkpoint-\\d+\\.tmp|model-\\d{5}-of-\\d{5}\\.safetensors|[a-z_]+\\.png|\\..*\\.tmp");

    private RunDirectory() {
    }

    /** Whether {@code dir} already holds (part of) a run. */
    public static boolean holdsRun(Path dir) {
        return !entries(dir).isEmpty() && entries(dir).stream().anyMatch(RunDirectory::isRunFile);
    }

    /**
     * Makes {@code dir} ready for a new run.
     *
     * @param overwrite delete an earlier run's files first (only those)
     */
    public static void prepare(Path dir, boolean overwrite) {
        List<String> names = entries(dir);
        if (names.isEmpty()) {
            create(dir);
            return;
        }
        List<String> foreign = names.stream().filter(n -> !isRunFile(n)).toList();
        if (!overwrite) {
            throw new IllegalArgumentException("the output directory " + dir + " is not empty (" + summary(names)
                    + "). Choose a new --output, add --overwrite to replace an earlier run there, or"
                    + " --resume-from-checkpoint latest to continue it.");
        }
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException("--overwrite refused: " + dir + " holds files a training run does not write ("
                    + summary(foreign) + "). Move them away or choose another --output.");
        }
        for (String n : names) {
            delete(dir.resolve(n));
        }
    }

    private static boolean isRunFile(String name) {
        return RUN_FILES.contains(name) || RUN_PATTERNS.matcher(name).matches();
    }

    private static String summary(List<String> names) {
        return names.size() <= 5 ? String.join(", ", names) : String.join(", ", names.subList(0, 5)) + ", ...";
    }

    private static List<String> entries(Path dir) {
        if (!Files.isDirectory(dir)) {
            if (Files.exists(dir)) {
                throw new IllegalArgumentException("the output " + dir + " exists and is not a directory");
            }
            return List.of();
        }
        try (var s = Files.list(dir)) {
            return new ArrayList<>(s.map(p -> p.getFileName().toString()).sorted().toList());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void create(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the output directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void delete(Path p) {
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }
}
