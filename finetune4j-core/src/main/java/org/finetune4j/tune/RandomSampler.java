package org.finetune4j.tune;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Independent uniform sampling of every parameter (Optuna's {@code RandomSampler}; Bergstra and Bengio 2012,
 * "Random Search for Hyper-Parameter Optimization"). The history is not looked at: trial n's parameters
 * depend only on (seed, n), so a resumed study draws the same trials as an uninterrupted one.
 */
public final class RandomSampler implements Sampler {
    private final long seed;

    public RandomSampler(long seed) {
        this.seed = seed;
    }

    @Override
    public Map<String, Object> sample(SearchSpace space, List<Trial> history, int trialNumber, Direction direction) {
        SplittableRandom random = randomFor(seed, trialNumber);
        Map<String, Object> params = new LinkedHashMap<>();
        space.params().forEach((name, distribution) -> params.put(name, sample(distribution, random)));
        return params;
    }

    /** One value of {@code distribution}, uniform in its (log-)range or over its choices. */
    static Object sample(Distribution distribution, SplittableRandom random) {
        if (distribution instanceof Distribution.Uniform u) {
            return Math.min(u.high(), u.low() + random.nextDouble() * (u.high() - u.low()));
        }
        if (distribution instanceof Distribution.LogUniform u) {
            double logLow = StrictMath.log(u.low());
            double logHigh = StrictMath.log(u.high());
            return Math.max(u.low(), Math.min(u.high(), StrictMath.exp(logLow + random.nextDouble() * (logHigh - logLow))));
        }
        if (distribution instanceof Distribution.IntRange r && r.log()) {
            // As Optuna: log-uniform over [low - 1/2, high + 1/2], then rounded, so each integer gets the
            // log-width of its own rounding cell.
            double lowEdge = StrictMath.log(r.low() - 0.5);
            double highEdge = StrictMath.log(r.high() + 0.5);
            long rounded = Math.round(StrictMath.exp(lowEdge + random.nextDouble() * (highEdge - lowEdge)));
            return (int) Math.max(r.low(), Math.min(r.high(), rounded));
        }
        if (distribution instanceof Distribution.IntRange r) {
            return r.low() + r.step() * random.nextInt((r.high() - r.low()) / r.step() + 1);
        }
        Distribution.Categorical c = (Distribution.Categorical) distribution;
        return c.choices().get(random.nextInt(c.choices().size()));
    }

    /**
     * The generator for one trial: seeded from a hash of (seed, trial number), so trials draw unrelated streams
     * (SplittableRandom seeds that differ by a multiple of its gamma would give shifted copies of one stream).
     */
    static SplittableRandom randomFor(long seed, int trialNumber) {
        return new SplittableRandom(mix64(seed ^ mix64(0x632BE59BD9B4E019L + trialNumber)));
    }

    /** Stafford's "Mix13" 64-bit finalizer (the one SplittableRandom itself uses). */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
