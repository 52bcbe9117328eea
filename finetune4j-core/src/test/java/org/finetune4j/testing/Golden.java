package org.finetune4j.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.models.EncoderInput;

/**
 * One folder of {@code ../shared/golden}: the outputs real transformers 4.37.2, PEFT 0.8.2, PyTorch 1.13
 * and scikit-learn 1.2.1 computed for a tiny model (see that folder's README for every file, tolerance
 * and trap). Tests that use it carry {@link NeedsSharedData}: under CI a missing folder fails them.
 *
 * <p>Every comparison goes through {@link #assertClose}, which also appends one line per check to
 * {@code target/golden-parity.tsv} (fixture, what, elements, largest difference, tolerance): the
 * parity table in docs/parity.md is made from that file by {@code scripts/parity-table.sh}.
 */
public final class Golden {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path RECORD = Path.of("target", "golden-parity.tsv");

    private final String name;
    private final Path dir;
    private JsonNode inputs;
    private JsonNode expectedJson;
    private Map<String, HostTensor> expected;

    private Golden(String name, Path dir) {
        this.name = name;
        this.dir = dir;
    }

    /** The fixture folder {@code golden/<name>} (e.g. "bert-seqcls"); fails under CI when missing. */
    public static Golden fixture(String name) {
        return new Golden(name, SharedData.require("golden/" + name));
    }

    public String name() {
        return name;
    }

    public Path dir() {
        return dir;
    }

    /** inputs.json. */
    public JsonNode inputs() {
        if (inputs == null) {
            inputs = readJson(dir.resolve("inputs.json"));
        }
        return inputs;
    }

    /** expected.json. */
    public JsonNode json() {
        if (expectedJson == null) {
            expectedJson = readJson(dir.resolve("expected.json"));
        }
        return expectedJson;
    }

    /** A tensor of expected.safetensors. */
    public HostTensor tensor(String tensorName) {
        if (expected == null) {
            expected = SafeTensors.readFile(dir.resolve("expected.safetensors"));
        }
        HostTensor t = expected.get(tensorName);
        if (t == null) {
            fail(name + "/expected.safetensors has no tensor \"" + tensorName + "\"; it has " + expected.keySet());
        }
        return t;
    }

    /**
     * The padded batch of inputs.json (or of {@code node}, e.g. one of train-steps' batches) as an
     * encoder input: ids and mask (B, T) int64, token types when the file has them, else null.
     */
    public static EncoderInput encoderInput(JsonNode node, NDManager manager) {
        NDArray ids = longMatrix(node.get("input_ids"), manager);
        NDArray mask = longMatrix(node.get("attention_mask"), manager);
        NDArray types = node.has("token_type_ids") ? longMatrix(node.get("token_type_ids"), manager) : null;
        return new EncoderInput(ids, mask, types);
    }

    public EncoderInput encoderInput(NDManager manager) {
        return encoderInput(inputs(), manager);
    }

    /** A JSON list of integer lists as a (rows, cols) int64 array. */
    public static NDArray longMatrix(JsonNode rows, NDManager manager) {
        int b = rows.size();
        int t = rows.get(0).size();
        long[] flat = new long[b * t];
        for (int i = 0; i < b; i++) {
            if (rows.get(i).size() != t) {
                fail("ragged matrix in a golden file: row " + i + " has " + rows.get(i).size() + " values, row 0 " + t);
            }
            for (int j = 0; j < t; j++) {
                flat[i * t + j] = rows.get(i).get(j).asLong();
            }
        }
        return manager.create(flat, new Shape(b, t));
    }

    /** A JSON number written from a float32 value, as that float32 (the README's rule). */
    public static float f32(JsonNode number) {
        return (float) number.asDouble();
    }

    /** Compares an array with an expected tensor of expected.safetensors: same shape, every element within tol. */
    public void assertClose(String tensorName, NDArray actual, double tol) {
        HostTensor want = tensor(tensorName);
        assertArrayEquals(want.shape(), actual.getShape().getShape(), name + ": shape of " + tensorName);
        assertClose(tensorName, want.toFloats(), actual.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray(),
                tol);
    }

    /** Compares two float arrays element by element; records the largest difference. */
    public void assertClose(String what, float[] want, float[] got, double tol) {
        assertEquals(want.length, got.length, name + ": number of values of " + what);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            if (!(d <= worst)) { // NaN counts as the worst
                worst = d;
                at = i;
            }
        }
        record(what, want.length, worst, tol);
        if (!(worst <= tol)) {
            fail(String.format(Locale.ROOT, "%s: %s differs from Hugging Face by %.3g at flat index %d (want %s, got %s);"
                    + " tolerance %.1g", name, what, worst, at, want[at], got[at], tol));
        }
    }

    /** Compares one scalar; records the difference. */
    public void assertClose(String what, double want, double got, double tol) {
        assertClose(what, new double[] {want}, new double[] {got}, tol);
    }

    /** Compares double arrays (metrics, schedules); records the largest difference. */
    public void assertClose(String what, double[] want, double[] got, double tol) {
        assertEquals(want.length, got.length, name + ": number of values of " + what);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(want[i] - got[i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        record(what, want.length, worst, tol);
        if (!(worst <= tol)) {
            fail(String.format(Locale.ROOT, "%s: %s differs from the reference by %.3g at index %d (want %s, got %s);"
                    + " tolerance %.1g", name, what, worst, at, want[at], got[at], tol));
        }
    }

    /** Exact equality (token ids, counts); recorded with difference 0 when equal. */
    public void assertExact(String what, long[] want, long[] got) {
        boolean same = Arrays.equals(want, got);
        record(what, want.length, same ? 0 : Double.POSITIVE_INFINITY, 0);
        assertArrayEquals(want, got, name + ": " + what);
    }

    private void record(String what, int n, double worst, double tol) {
        String line = String.format(Locale.ROOT, "%s\t%s\t%d\t%.3e\t%.0e%n", name, what, n, worst, tol);
        synchronized (Golden.class) {
            try {
                Files.createDirectories(RECORD.toAbsolutePath().getParent());
                Files.writeString(RECORD, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to " + RECORD.toAbsolutePath(), e);
            }
        }
    }

    private static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** A JSON array of numbers as doubles. */
    public static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    /** A JSON array of numbers, each the shortest double of a float32, as floats. */
    public static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = f32(array.get(i));
        }
        return out;
    }

    /** A JSON array of integers. */
    public static long[] longs(JsonNode array) {
        long[] out = new long[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asLong();
        }
        return out;
    }
}
