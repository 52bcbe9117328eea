package org.finetune4j.nn;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The gradient of an embedding table, kept as the rows that got one: what a training step's lookups
 * added, summed per row in the order they were added (so each row holds exactly the float sum a dense
 * gradient would), until the optimizer consumes and {@link #clear}s it. A step of MiniLM looks up a few
 * hundred of the word table's 30,522 rows; a dense (30,522, 384) gradient costs 47 MB of memory, a fill
 * and an optimizer pass over 11.7 M zeros each step (docs/performance.md).
 *
 * <p>Rows are stored compactly in the order they first appear: {@code slot(row)} finds a row's place.
 */
public final class RowGradient {
    private final int rows;
    private final int width;
    private final int[] slotOfRow; // (rows) slot index, or -1
    private int[] rowOfSlot = new int[64];
    private float[] values = new float[0]; // (capacity, width)
    private int count;

    public RowGradient(int rows, int width) {
        this.rows = rows;
        this.width = width;
        this.slotOfRow = new int[rows];
        Arrays.fill(slotOfRow, -1);
    }

    /** Rows of the table. */
    public int rows() {
        return rows;
    }

    /** Elements per row (the embedding width). */
    public int width() {
        return width;
    }

    /** How many distinct rows hold a gradient. */
    public int count() {
        return count;
    }

    /** The table row of slot {@code s}, for {@code s < count()}. */
    public int rowOf(int s) {
        return rowOfSlot[s];
    }

    /** The slot of {@code row}, or -1 if it has no gradient. */
    public int slot(int row) {
        return slotOfRow[row];
    }

    /** The gradient values, slot after slot ({@code width} floats each); valid up to {@code count() * width}. */
    public float[] values() {
        return values;
    }

    /** Adds {@code width} floats of {@code src} from {@code from} into row {@code row}'s gradient. */
    public void add(int row, FloatBuffer src, int from) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException("row " + row + " of an embedding table with " + rows + " rows");
        }
        int s = slotOfRow[row];
        if (s < 0) {
            s = count++;
            if (s == rowOfSlot.length) {
                rowOfSlot = Arrays.copyOf(rowOfSlot, 2 * s);
            }
            if ((long) count * width > values.length) {
                values = Arrays.copyOf(values, Math.max(64 * width, 2 * values.length)); // new slots start at 0
            }
            rowOfSlot[s] = row;
            slotOfRow[row] = s;
        }
        int at = s * width;
        for (int j = 0; j < width; j++) {
            values[at + j] = values[at + j] + src.get(from + j);
        }
    }

    /** Σ g² over every row's gradient, in double. */
    public double sumOfSquares() {
        double sum = 0;
        for (int i = 0, n = count * width; i < n; i++) {
            sum += (double) values[i] * values[i];
        }
        return sum;
    }

    /** The gradient as a dense (rows, width) array: zeros except the rows that got one. */
    public float[] toDense() {
        float[] out = new float[Math.multiplyExact(rows, width)];
        for (int s = 0; s < count; s++) {
            System.arraycopy(values, s * width, out, rowOfSlot[s] * width, width);
        }
        return out;
    }

    /** Forgets every row's gradient (the values are zeroed for the next accumulation). */
    public void clear() {
        for (int s = 0; s < count; s++) {
            slotOfRow[rowOfSlot[s]] = -1;
        }
        Arrays.fill(values, 0, count * width, 0f);
        count = 0;
    }
}
