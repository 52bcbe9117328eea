package org.finetune4j.tune;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;

/**
 * The Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio and Kégl 2011, "Algorithms for
 * Hyper-Parameter Optimization") as Optuna's {@code TPESampler} runs it by default: univariate,
 * {@code consider_prior=True}, {@code prior_weight=1.0}, {@code consider_magic_clip=True},
 * {@code consider_endpoints=False}, {@code n_startup_trials=10}, {@code n_ei_candidates=24},
 * γ(n) = min(⌈0.1·n⌉, 25) and {@code default_weights} (see {@link ParzenEstimator}).
 *
 * <p>For each new trial:
 * <ol>
 *   <li>The history is the finished trials: COMPLETE ones, and PRUNED ones ranked by how far they got (Optuna's
 *       {@code _split_trials}). Running and failed trials are left out. While it holds fewer than
 *       {@code nStartupTrials} trials, the trial is drawn by {@link RandomSampler} with the same seed.</li>
 *   <li>The best γ(n) trials are "below" (complete trials by objective, better first; then, if γ(n) is larger
 *       than the complete count, pruned trials by last reported step, later first, then by their value at
 *       it), the rest "above"; both keep trial-number order, which the weights rely on.</li>
 *   <li>Each parameter separately: l(x) is the Parzen estimator of the below trials' values, g(x) of the above
 *       trials'; {@code nEiCandidates} draws from l are scored by log l(x) − log g(x), and the best is
 *       taken (the first on ties). Optuna scores with −log(γ' + (1 − γ')·g/l), γ' the below fraction, which
 *       is increasing in l/g and so picks the same candidate.</li>
 * </ol>
 * Trials missing a parameter, or with a value outside its distribution, are left out of that parameter's
 * estimators. Randomness comes from a generator seeded by (seed, trial number): the same seed and history
 * give the same suggestion.
 */
public final class TpeSampler implements Sampler {
    private final long seed;
    private final int nStartupTrials;
    private final int nEiCandidates;
    private final IntUnaryOperator gamma;
    private final RandomSampler startup;

    /** Optuna's defaults: 10 random startup trials, 24 candidates, {@link #defaultGamma}. */
    public TpeSampler(long seed) {
        this(seed, 10, 24, TpeSampler::defaultGamma);
    }

    public TpeSampler(long seed, int nStartupTrials, int nEiCandidates, IntUnaryOperator gamma) {
        if (nStartupTrials < 0 || nEiCandidates < 1) {
            throw new IllegalArgumentException("TPE needs nStartupTrials >= 0 and nEiCandidates >= 1, got "
                    + nStartupTrials + " and " + nEiCandidates);
        }
        this.seed = seed;
        this.nStartupTrials = nStartupTrials;
        this.nEiCandidates = nEiCandidates;
        this.gamma = gamma;
        this.startup = new RandomSampler(seed);
    }

    /** Optuna's {@code default_gamma}: the best 10 % of the finished trials, at most 25. */
    public static int defaultGamma(int n) {
        return Math.min((int) Math.ceil(0.1 * n), 25);
    }

    @Override
    public Map<String, Object> sample(SearchSpace space, List<Trial> history, int trialNumber, Direction direction) {
        List<Trial> finished = history.stream()
                .filter(t -> t.state() == TrialState.COMPLETE && t.value() != null && !t.value().isNaN()
                        || t.state() == TrialState.PRUNED)
                .toList();
        if (finished.size() < nStartupTrials) {
            return startup.sample(space, history, trialNumber, direction);
        }
        List<List<Trial>> split = split(finished, gamma.applyAsInt(finished.size()), direction);
        List<Trial> below = split.get(0);
        List<Trial> above = split.get(1);

        SplittableRandom random = RandomSampler.randomFor(seed, trialNumber);
        Map<String, Object> params = new LinkedHashMap<>();
        space.params().forEach((name, distribution) ->
                params.put(name, sampleOne(name, distribution, below, above, random)));
        return params;
    }

    /** Below (the best {@code nBelow}) and above (the rest), each in trial-number order. */
    static List<List<Trial>> split(List<Trial> finished, int nBelow, Direction direction) {
        double sign = direction == Direction.MINIMIZE ? 1 : -1;
        List<Trial> ranked = new ArrayList<>();
        finished.stream().filter(t -> t.state() == TrialState.COMPLETE)
                .sorted(Comparator.comparingDouble(t -> sign * t.value()))
                .forEach(ranked::add);
        // Pruned trials after every complete one: further is better, then the value at the last step.
        finished.stream().filter(t -> t.state() == TrialState.PRUNED)
                .sorted(Comparator.<Trial>comparingInt(t -> t.intermediate().isEmpty() ? 1 : -t.intermediate().lastKey())
                        .thenComparingDouble(t -> prunedScore(t, sign)))
                .forEach(ranked::add);
        int n = Math.min(nBelow, ranked.size());
        Comparator<Trial> byNumber = Comparator.comparingInt(Trial::number);
        List<Trial> below = new ArrayList<>(ranked.subList(0, n));
        List<Trial> above = new ArrayList<>(ranked.subList(n, ranked.size()));
        below.sort(byNumber);
        above.sort(byNumber);
        return List.of(below, above);
    }

    private static double prunedScore(Trial t, double sign) {
        if (t.intermediate().isEmpty()) {
            return 0.0;
        }
        double last = t.intermediate().get(t.intermediate().lastKey());
        return Double.isNaN(last) ? Double.POSITIVE_INFINITY : sign * last;
    }

    private Object sampleOne(String name, Distribution distribution, List<Trial> below, List<Trial> above,
            SplittableRandom random) {
        ParzenEstimator l = estimator(distribution, observations(name, distribution, below));
        ParzenEstimator g = estimator(distribution, observations(name, distribution, above));
        double best = Double.NaN;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < nEiCandidates; i++) {
            double candidate = l.sample(random);
            double score = l.logPdf(candidate) - g.logPdf(candidate);
            if (Double.isNaN(best) || score > bestScore) {
                best = candidate;
                bestScore = score;
            }
        }
        return external(distribution, best);
    }

    // ---------------------------------------------------------------- internal space of each distribution

    /** The trials' values of one parameter in internal space (log for log-scaled, index for choices). */
    private static double[] observations(String name, Distribution distribution, List<Trial> trials) {
        List<Double> values = new ArrayList<>();
        for (Trial trial : trials) {
            Object value = trial.params().get(name);
            double internal = internal(distribution, value);
            if (!Double.isNaN(internal)) {
                values.add(internal);
            }
        }
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** NaN when the value is missing or does not belong to the distribution. */
    private static double internal(Distribution distribution, Object value) {
        if (distribution instanceof Distribution.Categorical c) {
            return indexOf(c.choices(), value);
        }
        if (!(value instanceof Number number)) {
            return Double.NaN;
        }
        double x = number.doubleValue();
        if (distribution instanceof Distribution.Uniform u) {
            return x >= u.low() && x <= u.high() ? x : Double.NaN;
        }
        if (distribution instanceof Distribution.LogUniform u) {
            return x >= u.low() && x <= u.high() ? StrictMath.log(x) : Double.NaN;
        }
        Distribution.IntRange r = (Distribution.IntRange) distribution;
        if (x < r.low() || x > r.high()) {
            return Double.NaN;
        }
        return r.log() ? StrictMath.log(x) : x;
    }

    /** A choice's index; numbers match by value (a study file may give 32 back as 32.0). */
    private static double indexOf(List<Object> choices, Object value) {
        for (int i = 0; i < choices.size(); i++) {
            Object choice = choices.get(i);
            if (choice.equals(value) || choice instanceof Number a && value instanceof Number b
                    && a.doubleValue() == b.doubleValue()) {
                return i;
            }
        }
        return Double.NaN;
    }

    private static ParzenEstimator estimator(Distribution distribution, double[] observations) {
        if (distribution instanceof Distribution.Categorical c) {
            int[] indices = new int[observations.length];
            for (int i = 0; i < indices.length; i++) {
                indices[i] = (int) observations[i];
            }
            return ParzenEstimator.categorical(indices, c.choices().size());
        }
        if (distribution instanceof Distribution.Uniform u) {
            return ParzenEstimator.numerical(observations, u.low(), u.high(), 0);
        }
        if (distribution instanceof Distribution.LogUniform u) {
            return ParzenEstimator.numerical(observations, StrictMath.log(u.low()), StrictMath.log(u.high()), 0);
        }
        Distribution.IntRange r = (Distribution.IntRange) distribution;
        if (r.log()) {
            // As Optuna: a log-scaled integer is continuous over [log(low − 1/2), log(high + 1/2)], rounded after.
            return ParzenEstimator.numerical(observations, StrictMath.log(r.low() - 0.5),
                    StrictMath.log(r.high() + 0.5), 0);
        }
        return ParzenEstimator.numerical(observations, r.low(), r.high(), r.step());
    }

    private static Object external(Distribution distribution, double internal) {
        if (distribution instanceof Distribution.Categorical c) {
            return c.choices().get((int) internal);
        }
        if (distribution instanceof Distribution.Uniform u) {
            return Math.max(u.low(), Math.min(u.high(), internal));
        }
        if (distribution instanceof Distribution.LogUniform u) {
            return Math.max(u.low(), Math.min(u.high(), StrictMath.exp(internal)));
        }
        Distribution.IntRange r = (Distribution.IntRange) distribution;
        double x = r.log() ? StrictMath.exp(internal) : internal;
        double onGrid = r.low() + Math.rint((x - r.low()) / r.step()) * r.step();   // numpy.round: half to even
        return (int) Math.max(r.low(), Math.min(r.high(), onGrid));
    }
}
