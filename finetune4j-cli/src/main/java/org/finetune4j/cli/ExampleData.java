package org.finetune4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The project's own example dataset (360 short customer-support messages: billing, delivery,
 * technical; written by examples/make_support_tickets.py, not copied from any public dataset).
 */
final class ExampleData {
    static final String RESOURCE = "/finetune4j/examples/support_tickets.csv";

    private ExampleData() {
    }

    /** Writes the bundled CSV into {@code dir} and returns its path. */
    static Path extract(Path dir) {
        try (InputStream in = ExampleData.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the example dataset " + RESOURCE + " is missing from the build");
            }
            Files.createDirectories(dir);
            Path out = dir.resolve("support_tickets.csv");
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the example dataset to " + dir + ": " + e.getMessage(), e);
        }
    }
}
