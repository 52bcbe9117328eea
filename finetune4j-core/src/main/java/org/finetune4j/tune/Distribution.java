package org.finetune4j.tune;

import java.util.List;

/**
 * One dimension of a search space, as Optuna's distributions: a float range (uniform or log-uniform), an
 * integer range (optionally log-scaled, with a step), or a list of choices. Written on the command line as
 * {@code uniform(a,b)}, {@code loguniform(a,b)}, {@code int(a,b)}, {@code int(a,b,log)} or
 * {@code choice(x,y,...)} (parsed by {@code SearchSpace}).
 */
public sealed interface Distribution {

    /** Floats in [low, high]. */
    record Uniform(double low, double high) implements Distribution {
    }

    /** Floats in [low, high], sampled uniformly in log space. */
    record LogUniform(double low, double high) implements Distribution {
    }

    /** Integers low, low+step, ..., high; {@code log} samples them uniformly in log space (step must be 1). */
    record IntRange(int low, int high, int step, boolean log) implements Distribution {
    }

    /** One of the listed values: numbers (Double or Integer), strings or booleans, in the order given. */
    record Categorical(List<Object> choices) implements Distribution {
    }
}
