package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Row-by-row moments: which rows get slots, and the round trip through the dense layout. */
class TableMomentsTest {

    @Test
    void onlyRowsWithMomentsGetSlotsAndTheDenseLayoutRoundTrips() {
        int rows = 3100;
        int width = 3;
        float[] m = new float[rows * width];
        float[] v = new float[rows * width];
        Random rnd = new Random(5);
        int active = 0;
        for (int r = 0; r < rows; r++) {
            if (r % 3 != 0) { // two rows in three have moments
                for (int j = 0; j < width; j++) {
                    m[r * width + j] = (float) rnd.nextGaussian();
                    v[r * width + j] = rnd.nextFloat();
                }
                active++;
            }
        }
        m[6 * width + 1] = -0f; // not +0: the dense update would not treat row 6 as idle, so it keeps a slot
        try (NDManager manager = NDManager.newBaseManager(); TableMoments t = new TableMoments(rows, width)) {
            t.load(java.nio.FloatBuffer.wrap(m), java.nio.FloatBuffer.wrap(v));
            assertEquals(active + 1, t.activeRows());
            assertEquals(-1, t.slot(3), "a row whose moments are all +0 has no slot");
            assertEquals(0, t.slot(1));
            NDArray[] dense = t.toDense(manager);
            assertArrayEquals(m, dense[0].toFloatArray()); // bit for bit, -0 included
            assertArrayEquals(v, dense[1].toFloatArray());
            int fresh = t.slotOrNew(3);
            assertEquals(active + 1, fresh, "a new slot after the others");
            assertEquals(fresh, t.slotOrNew(3));
            assertEquals(0f, t.m().get(t.offset(fresh)));
            assertEquals(0f, t.v().get(t.offset(fresh) + width - 1));
            t.load(java.nio.FloatBuffer.wrap(m), java.nio.FloatBuffer.wrap(v)); // loading again keeps the slots and the values
            assertArrayEquals(m, t.toDense(manager)[0].toFloatArray());
        }
    }
}
