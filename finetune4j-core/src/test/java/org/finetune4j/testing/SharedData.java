package org.finetune4j.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The read-only datasets beside the repository ({@code ../shared/data}). On a machine without them
 * (a user's), tests that need them are reported as skipped with the reason, never passed silently.
 * {@code FINETUNE4J_SHARED_DIR} overrides the location.
 */
public final class SharedData {
    private SharedData() {
    }

    /** The shared folder, or null when it is not there. */
    public static Path root() {
        String env = System.getenv("FINETUNE4J_SHARED_DIR");
        if (env != null && Files.isDirectory(Path.of(env))) {
            return Path.of(env);
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve(".ci")) && !Files.exists(dir.resolve(".git"))) {
            dir = dir.getParent();
        }
        if (dir == null || dir.getParent() == null) {
            return null;
        }
        Path shared = dir.getParent().resolve("shared");
        return Files.isDirectory(shared.resolve("data")) ? shared : null;
    }

    /** A file under ../shared (e.g. "data/sst2/dev.tsv"); skips the calling test when it is absent. */
    public static Path require(String relative) {
        Path root = root();
        assumeTrue(root != null, "NOT RUN: ../shared (the project's read-only datasets) is not beside this checkout;"
                + " set FINETUNE4J_SHARED_DIR to run this test");
        Path p = root.resolve(relative);
        assumeTrue(Files.exists(p), "NOT RUN: " + p + " is missing");
        return p;
    }
}
