package org.finetune4j.tune;

import java.nio.file.Path;
import java.util.List;

/**
 * The samplers, pruners and search-space readers a study names on the command line ({@code --sampler},
 * {@code --pruner}, {@code --space}, {@code --space-file}), by name.
 */
public final class Samplers {
    public static final List<String> SAMPLERS = List.of("random", "grid", "tpe");
    public static final List<String> PRUNERS = List.of("none", "median", "asha");

    private Samplers() {
    }

    /** The sampler called {@code name}, seeded with {@code seed}. */
    public static Sampler sampler(String name, long seed) {
        if (!SAMPLERS.contains(name)) {
            throw new IllegalArgumentException("--sampler " + name + " is not known; choose one of " + SAMPLERS);
        }
        throw notMerged("the " + name + " sampler");
    }

    /** The pruner called {@code name}. */
    public static Pruner pruner(String name) {
        if (!PRUNERS.contains(name)) {
            throw new IllegalArgumentException("--pruner " + name + " is not known; choose one of " + PRUNERS);
        }
        if (name.equals("none")) {
            return (trial, step, others, direction) -> false;
        }
        throw notMerged("the " + name + " pruner");
    }

    /** A space from {@code name=distribution} texts ({@code --space}). */
    public static SearchSpace parse(List<String> texts) {
        throw notMerged("--space parsing");
    }

    /** A space from a JSON or YAML file ({@code --space-file}). */
    public static SearchSpace read(Path file) {
        throw notMerged("--space-file reading");
    }

    private static IllegalStateException notMerged(String what) {
        return new IllegalStateException(what + " is not in this build yet (RandomSampler, GridSampler, TpeSampler,"
                + " MedianPruner, AshaPruner and SearchSpace.parse/read are merged separately)");
    }
}
