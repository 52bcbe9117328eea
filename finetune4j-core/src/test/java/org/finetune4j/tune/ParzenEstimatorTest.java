package org.finetune4j.tune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The estimator and the normal it is built on, against scipy 1.17 (truncnorm, norm) computed by hand. */
class ParzenEstimatorTest {

    @Test
    void normalMatchesScipy() {
        assertEquals(0.0013498980316300933, Gaussian.cdf(-3), 2e-10);
        assertEquals(0.9750021048517795, Gaussian.cdf(1.96), 2e-8);
        assertEquals(1.959963984540054, Gaussian.inverseCdf(0.975), 1e-6);
        assertEquals(-6.361340902404056, Gaussian.inverseCdf(1e-10), 1e-5);
        assertEquals(-804.6084420137539, Gaussian.logCdf(-40), 1e-5);           // Φ(-40) itself underflows
        assertEquals(-2.3876196688239344, Gaussian.logMass(-1.5, -1), 1e-6);
        assertEquals(-804.6084420137539, Gaussian.logMass(40, 40.5), 1e-5);      // mirrored into the lower tail
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < 1000; i++) {
            double z = Gaussian.sampleTruncated(random, 0.5, 0.75);
            assertTrue(z >= 0.5 && z <= 0.75, "draw " + z);
        }
    }

    @Test
    void continuousKernelsHaveOptunasCentresWidthsAndWeights() {
        // Observations 0.2 and 0.8 on [0, 1]: prior N(0.5, 1); the outer kernels take their inner neighbour
        // distance 0.3 (consider_endpoints=False), above the magic-clip floor 1 / min(100, 2 + 2) = 0.25.
        ParzenEstimator l = ParzenEstimator.numerical(new double[] {0.2, 0.8}, 0, 1, 0);
        assertEquals(0.06795981925343599, l.logPdf(0.5), 1e-6);
        assertEquals(-0.1438270060876564, l.logPdf(0.05), 1e-6);
    }

    @Test
    void integerKernelsAreDiscretised() {
        // int(1,3) with one observation 1: kernels N(1, 1) and the prior N(2, 3), each over [0.5, 3.5],
        // a value's probability being its kernel mass over [x − 0.5, x + 0.5].
        ParzenEstimator l = ParzenEstimator.numerical(new double[] {1}, 1, 3, 1);
        assertEquals(-0.8142186482680835, l.logPdf(1), 1e-6);
        assertEquals(-1.5711953212878427, l.logPdf(3), 1e-6);
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 200; i++) {
            double x = l.sample(random);
            assertTrue(x == 1 || x == 2 || x == 3, "draw " + x);
        }
    }

    @Test
    void categoricalKernelsAddThePriorToEachCount() {
        // Observations {0, 0, 2} of 3 choices: each kernel 1 on its choice + 1/4 on every choice, normalised,
        // plus a uniform prior kernel; mixture weights 1/4 each.
        ParzenEstimator l = ParzenEstimator.categorical(new int[] {0, 0, 2}, 3);
        assertEquals(-0.7419373447293773, l.logPdf(0), 1e-12);
        assertEquals(-1.6582280766035324, l.logPdf(1), 1e-12);
        assertEquals(-1.0986122886681098, l.logPdf(2), 1e-12);
    }

    @Test
    void weightsRampOlderObservationsBeyondTwentyFive() {
        assertArrayEquals(new double[] {1, 1, 1}, ParzenEstimator.defaultWeights(3));
        double[] w = ParzenEstimator.defaultWeights(30);                         // linspace(1/30, 1, 5), ones(25)
        assertArrayEquals(new double[] {1.0 / 30, 0.275, 0.5166666666666667, 0.7583333333333333, 1, 1},
                java.util.Arrays.copyOf(w, 6), 1e-12);
        assertEquals(1.0, w[29]);
        assertEquals(1, TpeSampler.defaultGamma(1));
        assertEquals(3, TpeSampler.defaultGamma(21));
        assertEquals(25, TpeSampler.defaultGamma(1000));
    }
}
