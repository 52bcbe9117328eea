package org.finetune4j.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;

/**
 * The read-only datasets and golden outputs beside the repository ({@code ../shared/data},
 * {@code ../shared/golden}); {@code FINETUNE4J_SHARED_DIR} names another folder instead. Tests that
 * read them carry {@link NeedsSharedData}. On a user's machine without the folder such a test is
 * reported as not run, with the reason; under CI (the {@code CI} variable that CI services set) a
 * missing file fails the test, so a CI run can never pass without the data.
 */
public final class SharedData {
    /** The environment variable that names the shared folder in place of {@code ../shared}. */
    public static final String DIR_ENV = "FINETUNE4J_SHARED_DIR";

    private SharedData() {
    }

    /**
     * A file under the shared folder (e.g. "data/sst2/dev.tsv"); when it is missing the calling test
     * fails under CI and is skipped elsewhere.
     */
    public static Path require(String relative) {
        if (!calledFromTaggedTest()) {
            fail("SharedData.require(\"" + relative + "\") is called from a test without @NeedsSharedData: tag the test"
                    + " method or class, so that -DexcludedGroups=" + NeedsSharedData.TAG + " leaves it out");
        }
        return resolve(relative, System.getenv(DIR_ENV), System.getenv("CI"), Path.of("").toAbsolutePath());
    }

    /** {@link #require} with its environment passed in: the folder variable, the CI variable, the working directory. */
    static Path resolve(String relative, String sharedDirEnv, String ciEnv, Path workingDir) {
        Located shared = locate(sharedDirEnv, workingDir);
        Path p = shared.root() == null ? null : shared.root().resolve(relative);
        if (p != null && Files.exists(p)) {
            return p;
        }
        String why = (p == null ? shared.where() : p + " is missing") + "; tests tagged \"" + NeedsSharedData.TAG
                + "\" read the project's datasets from ../shared beside the checkout. Put the shared folder there, or set "
                + DIR_ENV + " to a folder holding " + relative;
        if (inCi(ciEnv)) {
            return fail(why + " (CI is set, so a missing dataset fails the build instead of skipping)");
        }
        return Assumptions.abort("NOT RUN: " + why);
    }

    /** Whether a method or class on the call stack (or a class enclosing one) carries {@link NeedsSharedData}. */
    private static boolean calledFromTaggedTest() {
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> frames.anyMatch(f -> {
            for (Class<?> c = f.getDeclaringClass(); c != null; c = c.getEnclosingClass()) {
                if (c.isAnnotationPresent(NeedsSharedData.class)) {
                    return true;
                }
            }
            return Arrays.stream(f.getDeclaringClass().getDeclaredMethods())
                    .anyMatch(m -> m.getName().equals(f.getMethodName()) && m.isAnnotationPresent(NeedsSharedData.class));
        }));
    }

    /**
     * Whether the value of the {@code CI} variable means a CI run, where a missing file fails rather than
     * skips: set, and neither "false" nor "0" (GitHub Actions, GitLab and Travis set {@code CI=true}).
     */
    public static boolean inCi(String ciValue) {
        return ciValue != null && !ciValue.isBlank() && !ciValue.equalsIgnoreCase("false") && !ciValue.equals("0");
    }

    /** The shared folder found (null when none is), and where it was looked for. */
    record Located(Path root, String where) {
    }

    /**
     * The shared folder: {@code envDir} when it is set (even when it does not exist, so that a wrong
     * setting is reported rather than silently replaced), else {@code ../shared} beside the checkout
     * that holds {@code workingDir}.
     */
    static Located locate(String envDir, Path workingDir) {
        if (envDir != null && !envDir.isBlank()) {
            Path dir = Path.of(envDir).toAbsolutePath();
            return Files.isDirectory(dir) ? new Located(dir, DIR_ENV + "=" + dir)
                    : new Located(null, DIR_ENV + "=" + dir + " is not a directory");
        }
        Path dir = workingDir;
        while (dir != null && !Files.isDirectory(dir.resolve(".ci")) && !Files.exists(dir.resolve(".git"))) {
            dir = dir.getParent();
        }
        if (dir == null || dir.getParent() == null) {
            return new Located(null, "no checkout (a folder with .ci or .git) above " + workingDir);
        }
        Path shared = dir.getParent().resolve("shared");
        return Files.isDirectory(shared) ? new Located(shared, shared.toString())
                : new Located(null, shared + " is missing");
    }
}
