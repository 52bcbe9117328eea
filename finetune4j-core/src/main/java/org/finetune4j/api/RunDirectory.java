package org.finetune4j.api;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The output directory of a training run. A directory that already holds a run is never overwritten
 * unless the user says so; even then only what a run writes is deleted, and a directory holding
 * anything else is refused, so a mistyped --output cannot wipe unrelated files. A run holds the
 * directory's {@link Lock} for as long as it runs, so a second run into the same directory fails at
 * once instead of interleaving its files with the first's.
 */
public final class RunDirectory {
    /** The lock file, kept in the directory (deleting it would let two processes lock two different files). */
    public static final String LOCK_FILE = ".finetune4j.lock";

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

    /**
     * The files a run writes from its final evaluation. A resumed run removes an earlier run's before it
     * trains, so that a resume that fails leaves no results contradicting its run_config.json.
     */
    static final List<String> RESULT_FILES = List.of("eval_results.json", "test_results.json", "classification_report.txt",
            "classification_report.json", "test_classification_report.txt", "test_classification_report.json",
            "report.html", "misclassified.csv");

    /** Deletes {@link #RESULT_FILES} and the report's charts (*.png) from a run directory. */
    static void removeResults(Path dir) {
        for (String n : entries(dir)) {
            if (RESULT_FILES.contains(n) || n.matches("[a-z_]+\\.png")) {
                delete(dir.resolve(n));
            }
        }
    }

    /** Whether {@code dir} already holds (part of) a run. */
    public static boolean holdsRun(Path dir) {
        return !entries(dir).isEmpty() && entries(dir).stream().anyMatch(RunDirectory::isRunFile);
    }

    /** Whether {@code dir} is a directory with nothing in it but, perhaps, the lock (a run that failed early). */
    public static boolean isEmpty(Path dir) {
        return Files.isDirectory(dir) && entries(dir).isEmpty();
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

    /**
     * The outermost directory of {@code dir}'s path that does not exist yet, the first one {@link #lock}
     * would create; null when {@code dir} exists.
     */
    public static Path firstMissing(Path dir) {
        Path missing = null;
        for (Path p = dir.toAbsolutePath().normalize(); p != null && !Files.exists(p); p = p.getParent()) {
            missing = p;
        }
        return missing;
    }

    /**
     * After a run that failed: removes the directories made for it, from {@code dir} up to {@code createdRoot}
     * (from {@link #firstMissing} before the run), as long as each holds nothing but the lock file, so a run
     * that failed on its data leaves no empty --output behind (CliBehaviourTest.aFailedRunLeavesNoEmptyOutputDirectory).
     * Called after the lock was released; a directory that another run has started to fill is left alone.
     */
    public static void removeIfUnused(Path dir, Path createdRoot) {
        if (createdRoot == null) {
            return;
        }
        Path stop = createdRoot.getParent();
        for (Path p = dir.toAbsolutePath().normalize(); p != null && !p.equals(stop); p = p.getParent()) {
            if (!isEmpty(p)) {
                return;
            }
            try {
                Files.deleteIfExists(p.resolve(LOCK_FILE));
                Files.delete(p);
            } catch (IOException e) {
                return; // something appeared in it meanwhile: it is in use, keep it
            }
        }
    }

    /**
     * An OS file lock on a run directory ({@link FileChannel#tryLock}), held until closed. The lock file
     * names the holder (process id, host, start time) for the error a second run gets.
     */
    public static final class Lock implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock lock;

        private Lock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() {
            try {
                channel.truncate(0); // no stale holder for the next reader
                lock.release();
                channel.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot release the lock on " + LOCK_FILE + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Locks {@code dir} (created when missing) for one run. Fails at once, naming the holder, when another
     * run, in this process or another, holds it.
     */
    public static Lock lock(Path dir) {
        entries(dir); // a file where the directory should be: say so
        create(dir);
        Path file = dir.resolve(LOCK_FILE);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held by this JVM
            }
            if (lock == null) {
                String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
                throw new IllegalArgumentException("the output directory " + dir + " is in use by another training run ("
                        + (holder.isEmpty() ? "its holder is starting" : holder) + "). Wait for it to finish, or choose"
                        + " another --output.");
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(holder().getBytes(StandardCharsets.UTF_8)), 0);
            ch.force(false);
            return new Lock(ch, lock);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new UncheckedIOException("cannot lock the output directory " + dir + " (" + file + "): " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static String holder() {
        ProcessHandle self = ProcessHandle.current();
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "this host";
        }
        return "pid " + self.pid() + " on " + host + ", started "
                + self.info().startInstant().map(Object::toString).orElse(java.time.Instant.now().toString()) + "\n";
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // already failing: the first error is the one to report
            }
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
            return new ArrayList<>(s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(LOCK_FILE)).sorted().toList());
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
