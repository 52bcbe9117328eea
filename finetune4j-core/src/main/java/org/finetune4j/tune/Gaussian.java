package org.finetune4j.tune;

import java.util.SplittableRandom;

/**
 * The standard normal distribution as the Parzen estimator needs it: log density, log of the mass between two
 * points (without underflow in the tails), and sampling truncated to an interval by inverting the CDF (as
 * Optuna's {@code _truncnorm}). Computed with StrictMath so every platform draws the same numbers.
 */
final class Gaussian {
    private static final double LOG_SQRT_2PI = 0.5 * StrictMath.log(2 * Math.PI);

    private Gaussian() {
    }

    /** log φ(z). */
    static double logPdf(double z) {
        return -0.5 * z * z - LOG_SQRT_2PI;
    }

    /** Φ(z). */
    static double cdf(double z) {
        return 0.5 * erfc(-z / Math.sqrt(2));
    }

    /** log Φ(z), finite far into the lower tail (Φ(-40) underflows a double; its log does not). */
    static double logCdf(double z) {
        if (z >= 0) {
            return StrictMath.log1p(-cdf(-z));
        }
        return StrictMath.log(0.5) + logErfcPositive(-z / Math.sqrt(2));
    }

    /** log(Φ(b) − Φ(a)) for a &lt; b, computed on the side of 0 where it loses no precision. */
    static double logMass(double a, double b) {
        if (a >= 0) {
            return logMass(-b, -a);                       // symmetry: the same mass mirrored into the lower tail
        }
        if (b <= 0) {
            double logB = logCdf(b);
            return logB + StrictMath.log1p(-StrictMath.exp(logCdf(a) - logB));
        }
        return StrictMath.log1p(-(cdf(a) + cdf(-b)));     // a < 0 < b: one minus both tails
    }

    /** A draw from N(0, 1) conditioned on [a, b]. */
    static double sampleTruncated(SplittableRandom random, double a, double b) {
        if (a >= 0) {
            return -sampleTruncated(random, -b, -a);
        }
        double lowCdf = cdf(a);
        double highCdf = cdf(b);
        if (!(highCdf > lowCdf)) {
            return b;                                     // both ends beyond double precision: all mass at b
        }
        double z = inverseCdf(lowCdf + random.nextDouble() * (highCdf - lowCdf));
        return Math.max(a, Math.min(b, z));
    }

    /**
     * Φ⁻¹(p): Acklam's rational approximation (relative error 1.15e-9), polished by one Halley step against
     * {@link #cdf} so the two are inverses of each other.
     */
    static double inverseCdf(double p) {
        if (p <= 0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (p >= 1) {
            return Double.POSITIVE_INFINITY;
        }
        double x;
        if (p < P_LOW) {
            double q = Math.sqrt(-2 * StrictMath.log(p));
            x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
                    / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
        } else if (p <= 1 - P_LOW) {
            double q = p - 0.5;
            double r = q * q;
            x = (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
                    / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
        } else {
            double q = Math.sqrt(-2 * StrictMath.log1p(-p));
            x = -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
                    / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
        }
        double e = cdf(x) - p;
        double u = e * Math.sqrt(2 * Math.PI) * StrictMath.exp(x * x / 2);
        return x - u / (1 + x * u / 2);
    }

    private static final double P_LOW = 0.02425;
    private static final double[] A = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
        1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    private static final double[] B = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
        6.680131188771972e+01, -1.328068155288572e+01};
    private static final double[] C = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
        -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    private static final double[] D = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
        3.754408661907416e+00};

    /** erfc(x), relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev-fitted erfcc). */
    static double erfc(double x) {
        return x >= 0 ? StrictMath.exp(logErfcPositive(x)) : 2 - StrictMath.exp(logErfcPositive(-x));
    }

    /** log erfc(x) for x ≥ 0, in the form t·exp(−x² + P(t)), t = 1/(1 + x/2). */
    private static double logErfcPositive(double x) {
        double t = 1 / (1 + 0.5 * x);
        double poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
                + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        return StrictMath.log(t) - x * x + poly;
    }
}
