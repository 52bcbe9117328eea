package org.finetune4j.report;

/** Checks shared by the curve records. */
final class Curves {
    private Curves() {
    }

    static void requirePoints(String curve, String xName, double[] x, String yName, double[] y) {
        if (x == null || y == null) {
            throw new IllegalArgumentException(curve + ": " + xName + " and " + yName + " must both be given");
        }
        if (x.length != y.length) {
            throw new IllegalArgumentException(curve + ": " + xName + " has " + x.length + " points but " + yName
                    + " has " + y.length + "; they must be the same thresholds");
        }
        if (x.length < 2) {
            throw new IllegalArgumentException(curve + ": needs at least 2 points, got " + x.length);
        }
        for (int i = 0; i < x.length; i++) {
            if (!(x[i] >= 0 && x[i] <= 1 && y[i] >= 0 && y[i] <= 1)) {
                throw new IllegalArgumentException(curve + ": point " + i + " (" + xName + "=" + x[i] + ", " + yName
                        + "=" + y[i] + ") is outside [0, 1]");
            }
        }
    }

    static void requireProbability(String what, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(what + " must be in [0, 1], got " + v);
        }
    }
}
