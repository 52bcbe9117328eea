package org.finetune4j.data;

import java.util.Arrays;

/** A distribution of lengths (tokens or words per example): min, max, mean, mode and percentiles. */
public final class LengthDistribution {
    private final int[] sorted;

    public LengthDistribution(int[] lengths) {
        if (lengths.length == 0) {
            throw new IllegalArgumentException("no lengths");
        }
        this.sorted = lengths.clone();
        Arrays.sort(sorted);
    }

    public int count() {
        return sorted.length;
    }

    public int min() {
        return sorted[0];
    }

    public int max() {
        return sorted[sorted.length - 1];
    }

    public double mean() {
        long sum = 0;
        for (int v : sorted) {
            sum += v;
        }
        return (double) sum / sorted.length;
    }

    /** The most common length (the smallest of equally common ones). */
    public int mode() {
        return modeRun()[0];
    }

    /** How many examples have the {@link #mode()} length. */
    public int modeCount() {
        return modeRun()[1];
    }

    private int[] modeRun() {
        int best = sorted[0];
        int bestRun = 0;
        for (int i = 0; i < sorted.length;) {
            int j = i;
            while (j < sorted.length && sorted[j] == sorted[i]) {
                j++;
            }
            if (j - i > bestRun) {
                best = sorted[i];
                bestRun = j - i;
            }
            i = j;
        }
        return new int[] {best, bestRun};
    }

    /**
     * The p-th percentile by the nearest-rank method: the smallest length that at least p % of the
     * examples do not exceed. So at most (100 − p) % of examples are longer than it.
     */
    public int percentile(double p) {
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        }
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.max(rank, 1) - 1];
    }

    /** How many examples are longer than {@code length}. */
    public int countAbove(int length) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= length) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return sorted.length - lo;
    }
}
