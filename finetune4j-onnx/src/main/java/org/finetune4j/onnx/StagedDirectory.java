package org.finetune4j.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A directory built beside its target under a hidden temporary name and renamed into place in one step,
 * so that a reader (or a crash) never sees it half-written: the target is either absent, the old one, or
 * complete. Closing an unpublished stage deletes it.
 */
final class StagedDirectory implements AutoCloseable {
    /** What to do when the target already exists at publish time. */
    enum IfExists {
        /** Keep the existing directory and discard this one (another process got there first). */
        KEEP,
        /** Replace the existing directory (it is moved aside, then deleted). */
        REPLACE
    }

    private final Path target;
    private final Path staging;
    private boolean published;

    private StagedDirectory(Path target, Path staging) {
        this.target = target;
        this.staging = staging;
    }

    static StagedDirectory create(Path target) {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null) {
            throw new IllegalArgumentException("cannot stage the file-system root as a model directory");
        }
        Path staging = parent.resolve("." + abs.getFileName() + ".partial-" + UUID.randomUUID());
        try {
            Files.createDirectories(parent);
            Files.createDirectory(staging);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + staging + ": " + e.getMessage(), e);
        }
        return new StagedDirectory(abs, staging);
    }

    /** Where to write the files. */
    Path path() {
        return staging;
    }

    Path target() {
        return target;
    }

    /**
     * Renames the stage to the target.
     *
     * @return true when this stage became the target; false when the target exists and is kept
     */
    boolean publish(IfExists ifExists) {
        try {
            Path aside = null;
            if (Files.exists(target) && ifExists == IfExists.REPLACE) {
                aside = target.resolveSibling("." + target.getFileName() + ".old-" + UUID.randomUUID());
                try {
                    Files.move(target, aside, StandardCopyOption.ATOMIC_MOVE);
                } catch (NoSuchFileException e) {
                    aside = null; // someone else removed it meanwhile
                }
            } else if (Files.isDirectory(target) && isEmpty(target)) {
                try {
                    Files.delete(target); // an empty directory (e.g. made by the user) is not a model to keep
                } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                    // filled or removed meanwhile: the rename below decides
                }
            }
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileSystemException e) {
                if (aside != null && !Files.exists(target)) {
                    Files.move(aside, target, StandardCopyOption.ATOMIC_MOVE); // put the old directory back
                }
                // rename(2) fails with ENOTEMPTY or EEXIST when the target appeared after the checks above
                if (Files.exists(target) && ifExists == IfExists.KEEP) {
                    return false;
                }
                throw e;
            }
            published = true;
            if (aside != null) {
                deleteRecursively(aside);
            }
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + staging + " to " + target + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        if (!published) {
            deleteRecursively(staging);
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    /** Best effort: leftovers have hidden names and never shadow a model directory. */
    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // left for the user to remove; the name says what it is
        }
    }
}
