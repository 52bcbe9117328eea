package org.finetune4j.report;

import java.nio.file.Path;

/** A {@code metrics.jsonl} file could not be read. The message names the file and, for a bad record, its line. */
public class MetricsFileException extends RuntimeException {
    private final Path file;
    private final int line;

    public MetricsFileException(Path file, int line, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    /** The 1-based line of the bad record, or 0 when the file as a whole could not be read. */
    public int line() {
        return line;
    }
}
