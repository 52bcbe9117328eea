package org.finetune4j.tune;

import java.util.List;

/** The samplers and pruners a study names on the command line ({@code --sampler}, {@code --pruner}), by name. */
public final class Samplers {
    public static final List<String> SAMPLERS = List.of("random", "grid", "tpe");
    public static final List<String> PRUNERS = List.of("none", "median", "asha");

    private Samplers() {
    }

    /** The sampler called {@code name}, seeded with {@code seed}, with its defaults (Optuna's). */
    public static Sampler sampler(String name, long seed, SearchSpace space) {
        return switch (name) {
            case "random" -> new RandomSampler(seed);
            case "grid" -> new GridSampler(space, seed);
            case "tpe" -> new TpeSampler(seed);
            default -> throw new IllegalArgumentException("--sampler " + name + " is not known; choose one of " + SAMPLERS);
        };
    }

    /** The pruner called {@code name}, with its defaults (Optuna's); none never prunes. */
    public static Pruner pruner(String name) {
        return switch (name) {
            case "none" -> (trial, step, others, direction) -> false;
            case "median" -> new MedianPruner();
            case "asha" -> new AshaPruner();
            default -> throw new IllegalArgumentException("--pruner " + name + " is not known; choose one of " + PRUNERS);
        };
    }
}
