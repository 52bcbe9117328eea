package org.finetune4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/** {@value #FILE}: one JSON record per line (the Trainer's log_history), flushed after each. */
final class MetricsLog implements AutoCloseable {
    static final String FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;

    private MetricsLog(BufferedWriter out) {
        this.out = out;
    }

    /**
     * Starts {@code dir}/{@value #FILE} afresh with {@code history} (a resumed run's log up to its
     * checkpoint), so the log never holds a step twice.
     */
    static MetricsLog open(Path dir, List<Map<String, Object>> history) {
        Path file = dir.resolve(FILE);
        try {
            Files.createDirectories(dir);
            MetricsLog log = new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
            history.forEach(log::append);
            return log;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    void append(Map<String, Object> rec) {
        try {
            out.write(JSON.writeValueAsString(rec));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + FILE + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // every record was flushed when it was appended
        }
    }
}
