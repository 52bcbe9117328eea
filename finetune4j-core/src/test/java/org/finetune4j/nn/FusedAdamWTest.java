package org.finetune4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * AdamW's C loops ({@link FusedKernels#adamwRange}, {@link FusedKernels#adamwTableRows}) against the Java
 * loop they replace in train.CpuUpdate (written out here in the same float arithmetic and order): the
 * same bits, for every element, over several steps, with decay and clipping, and for table rows with,
 * without and before any gradient.
 */
class FusedAdamWTest {
    static final float B1 = 0.9f, B2 = 0.999f, CLIP = 0.73f, DECAY = 0.99998f, STEP = 3.1e-5f, EPS = 1.2e-8f;

    static FloatBuffer direct(float[] a) {
        FloatBuffer f = ByteBuffer.allocateDirect(4 * a.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        f.put(a).flip();
        return f;
    }

    static float[] read(FloatBuffer f) {
        float[] a = new float[f.capacity()];
        f.get(0, a);
        return a;
    }

    /** CpuUpdate's Java loop. */
    static void reference(float[] w, float[] g, float[] m, float[] v, int gAt, int at, int n) {
        for (int i = 0; i < n; i++) {
            float gi = (g == null ? 0f : g[gAt + i]) * CLIP;
            float mi = B1 * m[at + i] + (1 - B1) * gi;
            float vi = B2 * v[at + i] + (1 - B2) * gi * gi;
            m[at + i] = mi;
            v[at + i] = vi;
            w[at + i] = w[at + i] * DECAY - STEP * mi / ((float) Math.sqrt(vi) + EPS);
        }
    }

    static float[] gaussian(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    static void requireKernels() {
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(FusedKernels.available(), FusedKernels.unavailableReason());
        }
        Assumptions.assumeTrue(FusedKernels.available(), FusedKernels.unavailableReason());
    }

    @Test
    void theDenseUpdateIsTheJavaLoopsBitForBit() {
        requireKernels();
        SplittableRandom r = new SplittableRandom(5);
        int n = 200_003; // large enough to be split over threads, not a multiple of the vector width
        float[] w = gaussian(r, n, 0.05);
        float[] m = new float[n];
        float[] v = new float[n];
        FloatBuffer wb = direct(w), mb = direct(m), vb = direct(v);
        for (int step = 0; step < 3; step++) {
            float[] g = gaussian(r, n, step == 1 ? 1e-4 : 0.3);
            reference(w, g, m, v, 0, 0, n);
            FusedKernels.adamwRange(wb, direct(g), mb, vb, 0, n, B1, B2, CLIP, DECAY, STEP, EPS);
        }
        assertArrayEquals(w, read(wb), "weights");
        assertArrayEquals(m, read(mb), "first moments");
        assertArrayEquals(v, read(vb), "second moments");
    }

    @Test
    void tableRowsAreTheJavaLoopsBitForBit() {
        requireKernels();
        SplittableRandom r = new SplittableRandom(6);
        int h = 37;
        int rows = 50;
        float[] w = gaussian(r, rows * h, 0.05);
        float[] m = gaussian(r, rows * h, 1e-3); // the moment slots of rows 0..rows-1, slot k at k * h
        float[] v = new float[rows * h];
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(m[i]) * 1e-3f;
        }
        float[] g = gaussian(r, 10 * h, 0.2); // gradients of 10 rows
        int[] wRows = new int[rows];
        int[] gAt = new int[rows];
        int[] mAt = new int[rows];
        float zeroTerm = STEP * (B1 * 0f + (1 - B1) * (0f * CLIP)) / ((float) Math.sqrt(0f) + EPS);
        for (int k = 0; k < rows; k++) {
            wRows[k] = k;
            gAt[k] = k < 10 ? k * h : -1; // rows 0..9 have a gradient this step
            mAt[k] = k < 40 ? k * h : -1; // rows 40..49 never had one: only the decay
        }
        FloatBuffer wb = direct(w), mb = direct(m), vb = direct(v);
        FusedKernels.adamwTableRows(wb, g, mb, vb, wRows, gAt, mAt, rows, h, B1, B2, CLIP, DECAY, STEP, EPS, zeroTerm);
        for (int k = 0; k < rows; k++) {
            if (mAt[k] < 0) {
                for (int j = k * h; j < (k + 1) * h; j++) {
                    w[j] = w[j] * DECAY - zeroTerm;
                }
            } else {
                reference(w, gAt[k] < 0 ? null : g, m, v, Math.max(0, gAt[k]), k * h, h);
            }
        }
        assertArrayEquals(w, read(wb), "weights");
        assertArrayEquals(m, read(mb), "first moments");
        assertArrayEquals(v, read(vb), "second moments");
    }
}
