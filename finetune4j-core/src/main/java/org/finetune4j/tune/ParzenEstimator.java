package org.finetune4j.tune;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The one-dimensional Parzen estimator of TPE (Bergstra et al. 2011, "Algorithms for Hyper-Parameter
 * Optimization", section 4), with Optuna's default settings (its {@code _ParzenEstimator}, univariate):
 * one kernel per observation plus a prior kernel, mixed with the weights of {@link #defaultWeights} and prior
 * weight 1.
 *
 * <p>A numerical dimension works in the sampler's internal space (log of the value for log-scaled ones):
 * observation i is a normal N(x_i, σ_i) truncated to [low, high], σ_i the larger distance to its neighbours
 * among the sorted observations, the prior's centre and the range ends (the first and last use their inner
 * neighbour only: {@code consider_endpoints=False}), clipped to [range / min(100, n + 2), range]
 * ({@code consider_magic_clip}); the prior is N((low + high) / 2, range). With a {@code step} (integers) each
 * kernel is discretised: a value's probability is the kernel's mass over [x − step/2, x + step/2], and the
 * range widens by step/2 on each side.
 *
 * <p>A categorical dimension: observation i puts weight 1 on its own choice plus prior_weight / (n + 1) on
 * every choice (normalised); the prior kernel is uniform.
 */
final class ParzenEstimator {
    private static final double PRIOR_WEIGHT = 1.0;

    private final double[] logWeights;   // (K): log mixture weight of each kernel, the prior last
    private final double[] weights;      // (K)
    private final Kernels kernels;

    private ParzenEstimator(double[] observationWeights, Kernels kernels) {
        double[] w = Arrays.copyOf(observationWeights, observationWeights.length + 1);
        w[w.length - 1] = PRIOR_WEIGHT;
        if (observationWeights.length == 0) {
            w[0] = 1.0;                                    // no observations: the prior alone
        }
        double sum = Arrays.stream(w).sum();
        this.weights = Arrays.stream(w).map(v -> v / sum).toArray();
        this.logWeights = Arrays.stream(weights).map(StrictMath::log).toArray();
        this.kernels = kernels;
    }

    /**
     * Optuna's {@code default_weights}: equal weights for up to 25 observations; beyond that the 25 newest keep
     * weight 1 and older ones ramp linearly from 1/n up to 1 (observations in trial order).
     */
    static double[] defaultWeights(int n) {
        double[] w = new double[n];
        Arrays.fill(w, 1.0);
        if (n >= 25) {
            int ramp = n - 25;                              // numpy.linspace(1/n, 1, ramp)
            for (int i = 0; i < ramp; i++) {
                w[i] = ramp == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * i / (ramp - 1);
            }
        }
        return w;
    }

    /**
     * A numerical dimension. {@code observations} and the bounds are in internal space; {@code step} is 0 for
     * a continuous dimension.
     */
    static ParzenEstimator numerical(double[] observations, double low, double high, double step) {
        int n = observations.length;
        double priorMu = 0.5 * (low + high);
        double width = high - low + step;

        // Sorted kernel centres (the prior's too) between the two range ends.
        double[] centres = Arrays.copyOf(observations, n + 1);
        centres[n] = priorMu;
        Integer[] order = IntStream.range(0, n + 1).boxed().sorted(Comparator.comparingDouble(i -> centres[i]))
                .toArray(Integer[]::new);
        double[] line = new double[n + 3];                  // (n + 3): low end, sorted centres, high end
        line[0] = low - step / 2;
        for (int k = 0; k <= n; k++) {
            line[k + 1] = centres[order[k]];
        }
        line[n + 2] = high + step / 2;

        double minSigma = width / Math.min(100.0, 1.0 + n + 1);
        double[] mus = new double[n + 1];
        double[] sigmas = new double[n + 1];
        for (int k = 0; k <= n; k++) {
            int i = order[k];
            if (i == n) {
                continue;                                    // the prior's σ is fixed below
            }
            double left = line[k + 1] - line[k];
            double right = line[k + 2] - line[k + 1];
            double sigma = Math.max(left, right);
            if (n >= 1 && k == 0) {
                sigma = right;                               // consider_endpoints=False
            } else if (n >= 1 && k == n) {
                sigma = left;
            }
            mus[i] = observations[i];
            sigmas[i] = Math.max(minSigma, Math.min(width, sigma));
        }
        mus[n] = priorMu;
        sigmas[n] = width;
        return new ParzenEstimator(defaultWeights(n), new TruncatedNormals(mus, sigmas, low, high, step));
    }

    /** A categorical dimension with {@code nChoices} choices; observations are choice indices. */
    static ParzenEstimator categorical(int[] observations, int nChoices) {
        int n = observations.length;
        double[][] probabilities = new double[n + 1][nChoices];  // (K, nChoices)
        for (int i = 0; i <= n; i++) {
            Arrays.fill(probabilities[i], PRIOR_WEIGHT / (n + 1));
            if (i < n) {
                probabilities[i][observations[i]] += 1;
            }
            double sum = Arrays.stream(probabilities[i]).sum();
            for (int c = 0; c < nChoices; c++) {
                probabilities[i][c] /= sum;
            }
        }
        return new ParzenEstimator(defaultWeights(n), new Categoricals(probabilities));
    }

    /** A draw: a kernel by mixture weight, then a value from that kernel. */
    double sample(SplittableRandom random) {
        double u = random.nextDouble();
        int k = 0;
        double cumulative = weights[0];
        while (u >= cumulative && k < weights.length - 1) {
            k++;
            cumulative += weights[k];
        }
        return kernels.sample(k, random);
    }

    /** log of the mixture density (probability, for discrete dimensions) at {@code x}. */
    double logPdf(double x) {
        double[] terms = new double[weights.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < terms.length; k++) {
            terms[k] = logWeights[k] + kernels.logPdf(k, x);
            max = Math.max(max, terms[k]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double sum = 0;
        for (double t : terms) {
            sum += StrictMath.exp(t - max);
        }
        return max + StrictMath.log(sum);
    }

    /** The mixture's components: kernel k's sampler and log density. */
    private interface Kernels {
        double sample(int k, SplittableRandom random);

        double logPdf(int k, double x);
    }

    /** Normals truncated to [low, high]; with a step, discretised to low, low + step, ..., high. */
    private record TruncatedNormals(double[] mus, double[] sigmas, double low, double high, double step)
            implements Kernels {
        @Override
        public double sample(int k, SplittableRandom random) {
            double lowEnd = low - step / 2;
            double highEnd = high + step / 2;
            double z = Gaussian.sampleTruncated(random, (lowEnd - mus[k]) / sigmas[k], (highEnd - mus[k]) / sigmas[k]);
            double x = mus[k] + sigmas[k] * z;
            if (step == 0) {
                return Math.max(low, Math.min(high, x));
            }
            return Math.max(low, Math.min(high, low + Math.rint((x - low) / step) * step));
        }

        @Override
        public double logPdf(int k, double x) {
            double mu = mus[k];
            double sigma = sigmas[k];
            double lowEnd = low - step / 2;
            double highEnd = high + step / 2;
            double logNormaliser = Gaussian.logMass((lowEnd - mu) / sigma, (highEnd - mu) / sigma);
            if (step == 0) {
                return Gaussian.logPdf((x - mu) / sigma) - StrictMath.log(sigma) - logNormaliser;
            }
            double cellLow = Math.max(x - step / 2, lowEnd);
            double cellHigh = Math.min(x + step / 2, highEnd);
            return Gaussian.logMass((cellLow - mu) / sigma, (cellHigh - mu) / sigma) - logNormaliser;
        }
    }

    /** One probability vector over the choices per kernel. */
    private record Categoricals(double[][] probabilities) implements Kernels {
        @Override
        public double sample(int k, SplittableRandom random) {
            double u = random.nextDouble();
            double[] p = probabilities[k];
            double cumulative = 0;
            for (int c = 0; c < p.length - 1; c++) {
                cumulative += p[c];
                if (u < cumulative) {
                    return c;
                }
            }
            return p.length - 1;
        }

        @Override
        public double logPdf(int k, double x) {
            return StrictMath.log(probabilities[k][(int) x]);
        }
    }
}
