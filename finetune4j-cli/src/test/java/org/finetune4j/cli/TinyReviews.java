package org.finetune4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** 48 labelled one-line reviews (24 pos, 24 neg), enough for a tiny run with validation and test splits. */
final class TinyReviews {
    private TinyReviews() {
    }

    /** Writes them to {@code file} as CSV with columns text,label; returns the file. */
    static Path write(Path file) throws IOException {
        List<String> rows = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < 24; i++) {
            rows.add("the movie was good number " + i + ",pos");
            rows.add("the movie was bad number " + i + ",neg");
        }
        Files.createDirectories(file.getParent());
        return Files.write(file, rows);
    }
}
