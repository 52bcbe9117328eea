package org.finetune4j.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The precision of the linear layers' matrix products, for the whole process (as PyTorch's
 * torch.set_float32_matmul_precision is): {@link #FP32}, or {@link #BF16}, where products take bf16
 * inputs and accumulate in fp32 while everything else (weights, optimizer state, layer norm, softmax,
 * residual sums, losses) stays fp32 — what transformers' {@code bf16=True} gets from torch.autocast on
 * a CPU. Training keeps fp32 master weights: autograd casts each gradient back to fp32.
 *
 * <p>bf16 is used only where it is native and safe: a CPU with AVX-512 BF16 or AMX (elsewhere oneDNN
 * emulates it, slower than fp32), the TorchScript kernels loading, and a product checked against fp32
 * in this process. Otherwise {@link #use} falls back to fp32 and says why. No bf16 tensor ever
 * reaches DJL (see {@link ScriptedKernels}), so the JVM cannot be aborted by it.
 */
public enum Precision {
    FP32,
    BF16;

    private static volatile Precision current = FP32;

    /** The precision linear layers use now. */
    public static Precision current() {
        return current;
    }

    /** fp32 or bf16 (case-insensitive), for command-line options. */
    public static Precision parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown precision '" + s + "': use fp32 or bf16");
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * What a request gets.
     *
     * @param used the precision now in force
     * @param fallback why a bf16 request runs in fp32, or null when it got what it asked for
     */
    public record Choice(Precision used, String fallback) {
    }

    /** Sets the process's precision; bf16 only where {@link #bf16Unsupported()} finds nothing against it. */
    public static synchronized Choice use(Precision requested) {
        if (requested == FP32) {
            current = FP32;
            return new Choice(FP32, null);
        }
        String why = bf16Unsupported();
        current = why == null ? BF16 : FP32;
        return new Choice(current, why);
    }

    private static String bf16Verdict;
    private static boolean bf16Checked;

    /** Why bf16 cannot be used in this process, or null when it can (checked once). */
    public static synchronized String bf16Unsupported() {
        if (!bf16Checked) {
            bf16Verdict = checkBf16();
            bf16Checked = true;
        }
        return bf16Verdict;
    }

    private static String checkBf16() {
        return bf16Verdict(Engine.getInstance().defaultDevice().isGpu(), cpuFlags(), Precision::selfCheck);
    }

    /** The decision, on the facts it depends on: why bf16 cannot be used, or null when it can. */
    static String bf16Verdict(boolean gpu, Set<String> cpuFlags, java.util.function.Supplier<String> selfCheck) {
        if (gpu) {
            return "bf16 is built and measured for the CPU only; this process runs on a GPU (fp32 used)";
        }
        if (!cpuFlags.contains("avx512_bf16") && !cpuFlags.contains("amx_bf16")) {
            return "this CPU has no native bf16 dot products (neither AVX-512 BF16 nor AMX in /proc/cpuinfo), where bf16"
                    + " is emulated and slower than fp32 (fp32 used)";
        }
        return selfCheck.get();
    }

    /** A bf16 product in this process against fp32: null when it agrees, else what went wrong. */
    static String selfCheck() {
        try (NDManager m = NDManager.newBaseManager()) {
            ScriptedKernels k = ScriptedKernels.get();
            // Inputs from a Java generator: drawing them from PyTorch's would move a seeded run's numbers.
            java.util.SplittableRandom r = new java.util.SplittableRandom(7);
            NDArray x = m.create(gaussian(r, 8 * 64), new Shape(8, 64)); // (8, 64)
            NDArray w = m.create(gaussian(r, 16 * 64), new Shape(16, 64)); // (16, 64)
            NDArray b = m.create(gaussian(r, 16), new Shape(16)); // (16)
            NDArray exact = x.getNDArrayInternal().linear(x, w, b).singletonOrThrow(); // (8, 16)
            NDArray got = k.linearBf16(x, w, b, false); // (8, 16)
            // bf16 rounding of the inputs moves such a product by well under 2 % of its largest element.
            float err = got.sub(exact).abs().max().getFloat();
            float scale = exact.abs().max().getFloat();
            if (!(err <= 0.02f * scale)) {
                return "the bf16 self-check failed: max error " + err + " on a product of magnitude " + scale + " (fp32 used)";
            }
            return null;
        } catch (RuntimeException e) {
            return "libtorch did not run the bf16 kernels (" + e.getMessage() + "); fp32 used";
        }
    }

    /**
     * Sets the precision without the support check, for tests that compare the two paths on any CPU (where
     * AVX-512 BF16 is missing, libtorch emulates bf16: same numbers, slower).
     */
    public static void force(Precision p) {
        current = p;
    }

    private static float[] gaussian(java.util.SplittableRandom r, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (r.nextDouble(-1, 1) + r.nextDouble(-1, 1) + r.nextDouble(-1, 1));
        }
        return out;
    }

    /** The flags line of /proc/cpuinfo, or none where there is no such file. */
    public static Set<String> cpuFlags() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Set.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))).orElse(Set.of());
        } catch (Exception e) {
            return Set.of();
        }
    }
}
