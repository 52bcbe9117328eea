package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The elementwise parts of a BERT encoder layer's forward and backward pass as fused fp32 CPU kernels in C,
 * for a hand-written layer backward that replaces autograd (the matrix products stay libtorch's). Each
 * kernel is one or two passes over memory where the libtorch op chain it replaces is five to fifteen, each
 * a full pass with a fresh output tensor.
 *
 * <p>The C source ships in the jar ({@code fused_kernels.c} next to this class) and is compiled on first
 * use with the machine's C compiler ({@code cc -O3 -march=native}), into
 * {@code ${FINETUNE4J_CACHE_DIR:-~/.cache/finetune4j}/native/<key>/libfinetune4j-fused.so}, the key a
 * SHA-256 of the source, the compiler's version, the CPU's flags, the Java version and the flags, so a
 * library is built once per machine and never reused on another CPU. Where that cannot be done (no
 * compiler, no JNI headers, a failed compile or load) {@link #available()} is false and
 * {@link #unavailableReason()} says what failed and what to do.
 *
 * <p>All arrays are contiguous PyTorch CPU arrays, FLOAT32 unless said; masks are UINT8, 1 keep (or attend)
 * and 0 drop (or padding). "n" is the number of rows, the product of all dimensions but the last. Kernels
 * overwrite their outputs, never accumulate into them. The C side splits rows over libtorch's OpenMP threads
 * ({@link #libtorchOpenMp}; on one thread where that runtime is not found); every result, dGamma and dBeta
 * included, is the same bit for bit for any number of threads.
 */
public final class FusedKernels {
    private static final Logger LOG = LoggerFactory.getLogger(FusedKernels.class);

    /** The compiler flags without OpenMP; no -ffast-math (IEEE semantics stay). With libtorch's runtime found, -fopenmp is added and it is linked. */
    static final List<String> FLAGS = List.of("-O3", "-march=native", "-fPIC", "-shared", "-fno-math-errno", "-fopenmp-simd");
    static final String SOURCE = "fused_kernels.c";
    static final String LIBRARY = "libfinetune4j-fused.so";
    /** Rows per dGamma/dBeta partial sum: the unit rows are dealt out in, so the sums do not depend on the split. */
    static final int LAYER_NORM_BLOCK = 32;

    private FusedKernels() {
    }

    // ---- availability -------------------------------------------------------------------------------------

    private static Loader defaultLoader;

    /** Compiles (first time on this machine) and loads the kernels on the first call; false where that failed. */
    public static boolean available() {
        return loader().available();
    }

    /** Null when {@link #available()}; otherwise what failed and what to do about it. */
    public static String unavailableReason() {
        return loader().unavailableReason();
    }

    private static synchronized Loader loader() {
        if (defaultLoader == null) {
            defaultLoader = new Loader("cc", cacheRoot());
            if (!defaultLoader.available()) {
                LOG.warn("the fused CPU kernels are not available, so training runs the autograd layers and Java loops"
                        + " (results agree to float rounding; full fine-tuning is slower): {}", defaultLoader.unavailableReason());
            }
        }
        return defaultLoader;
    }

    /** {@code $FINETUNE4J_CACHE_DIR}, or {@code ~/.cache/finetune4j}. */
    static Path cacheRoot() {
        String dir = System.getenv("FINETUNE4J_CACHE_DIR");
        return dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "finetune4j");
    }

    private static void requireAvailable() {
        Loader l = loader();
        if (!l.available()) {
            throw new IllegalStateException("the fused CPU kernels are not available: " + l.unavailableReason());
        }
    }

    /**
     * Finds or builds the library for one compiler command and cache directory, and loads it. The default
     * instance uses {@code cc} and {@link #cacheRoot()}; tests make others to reach the failure paths.
     */
    static final class Loader {
        private final String compiler;
        private final Path cacheRoot;
        private boolean tried;
        private String reason;

        Loader(String compiler, Path cacheRoot) {
            this.compiler = compiler;
            this.cacheRoot = cacheRoot;
        }

        synchronized boolean available() {
            if (!tried) {
                tried = true;
                try {
                    reason = load();
                } catch (Exception | LinkageError e) {
                    reason = "loading the fused CPU kernels failed: " + e;
                }
            }
            return reason == null;
        }

        synchronized String unavailableReason() {
            available();
            return reason;
        }

        /** Null on success, else the reason. */
        private String load() throws IOException, InterruptedException {
            if (Contiguity.ERROR != null) {
                return Contiguity.ERROR;
            }
            byte[] source;
            try (InputStream in = FusedKernels.class.getResourceAsStream(SOURCE)) {
                if (in == null) {
                    return "the kernel source " + SOURCE + " is missing from the classpath next to " + FusedKernels.class.getName()
                            + " (a broken build of finetune4j-core?)";
                }
                source = in.readAllBytes();
            }
            String version;
            try {
                Run r = run(List.of(compiler, "--version"), null, 30);
                if (r.exit != 0) {
                    return "the C compiler '" + compiler + " --version' exited with " + r.exit + ": " + r.output.strip();
                }
                version = r.output;
            } catch (IOException e) {
                return "no C compiler: could not run '" + compiler + "' (" + e.getMessage() + "). Install one (e.g. "
                        + "apt-get install gcc) for the fused CPU kernels";
            }
            Path include = Path.of(System.getProperty("java.home"), "include");
            if (!Files.isRegularFile(include.resolve("jni.h")) || !Files.isRegularFile(include.resolve("linux").resolve("jni_md.h"))) {
                return "the JNI headers are missing (" + include.resolve("jni.h") + ", " + include.resolve("linux/jni_md.h")
                        + "): this Java runtime is not a full JDK. Run on a JDK (e.g. apt-get install openjdk-17-jdk-headless)";
            }
            Path openmp = libtorchOpenMp();
            String key = key(source, version, cpuFlags(), System.getProperty("java.version"), String.join(" ", FLAGS),
                    String.valueOf(openmp));
            Path dir = cacheRoot.resolve("native").resolve(key);
            Path library = dir.resolve(LIBRARY);
            if (!Files.isRegularFile(library)) {
                String failed = compile(source, include, dir, library, openmp);
                if (failed != null) {
                    return failed;
                }
            }
            try {
                System.load(library.toAbsolutePath().toString());
            } catch (UnsatisfiedLinkError e) {
                return "loading " + library + " failed: " + e.getMessage() + ". Delete " + dir + " to rebuild it";
            }
            return null;
        }

        /**
         * Compiles into a temporary file in {@code dir} and renames it to {@code library} in one step, so a
         * reader never sees a partial library, and two JVMs compiling at once both succeed (the second rename
         * replaces the first's identical file). The compiler's output goes to build.log beside it.
         */
        private String compile(byte[] source, Path include, Path dir, Path library, Path openmp)
                throws IOException, InterruptedException {
            Files.createDirectories(dir);
            String tag = Long.toUnsignedString(new SecureRandom().nextLong(), 36);
            Path src = dir.resolve("." + tag + "." + SOURCE);
            Path out = dir.resolve("." + tag + "." + LIBRARY + ".tmp");
            Path log = dir.resolve("." + tag + ".build.log");
            Path buildLog = dir.resolve("build.log");
            try {
                Files.write(src, source);
                List<String> command = new ArrayList<>();
                command.add(compiler);
                List<String> link = null;
                Path object = dir.resolve("." + tag + ".o");
                if (openmp == null) {
                    command.addAll(FLAGS);
                    command.addAll(List.of("-I", include.toString(), "-I", include.resolve("linux").toString(), "-o",
                            out.toString(), src.toString()));
                } else {
                    // Compiled with OpenMP, linked to libtorch's runtime (not the system's libgomp): one thread pool.
                    command.addAll(FLAGS.stream().filter(f -> !f.equals("-shared") && !f.equals("-fopenmp-simd")).toList());
                    command.addAll(List.of("-fopenmp", "-I", include.toString(), "-I", include.resolve("linux").toString(),
                            "-c", "-o", object.toString(), src.toString()));
                    link = List.of(compiler, "-shared", "-o", out.toString(), object.toString(), openmp.toString(),
                            "-Wl,-rpath," + openmp.getParent());
                }
                long start = System.nanoTime();
                Run r;
                try {
                    r = run(command, log, 300);
                    if (r.exit == 0 && link != null) {
                        Path linkLog = dir.resolve("." + tag + ".link.log");
                        r = run(link, linkLog, 120);
                        Files.write(log, Files.readAllBytes(linkLog), java.nio.file.StandardOpenOption.APPEND);
                        Files.deleteIfExists(linkLog);
                        command = link;
                    }
                } catch (IOException e) {
                    return "could not run the C compiler '" + compiler + "': " + e.getMessage();
                } finally {
                    Files.deleteIfExists(object);
                }
                move(log, buildLog);
                if (r.exit != 0) {
                    return "compiling the fused CPU kernels failed (" + String.join(" ", command) + " exited with " + r.exit
                            + "); the compiler's output is in " + buildLog;
                }
                move(src, dir.resolve(SOURCE)); // what build.log's line numbers refer to
                move(out, library);
                LOG.info("compiled the fused CPU kernels in {} ms: {}", (System.nanoTime() - start) / 1_000_000, library);
                return null;
            } finally {
                for (Path p : List.of(src, out, log)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private record Run(int exit, String output) {}

    /** Runs a command; its output goes to {@code log} when given, else it is returned. */
    private static Run run(List<String> command, Path log, int timeoutSeconds) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (log != null) {
            pb.redirectOutput(log.toFile());
        }
        Process p = pb.start();
        String output = "";
        if (log == null) {
            output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Run(-1, "timed out after " + timeoutSeconds + " s: " + String.join(" ", command));
        }
        return new Run(p.exitValue(), output);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * The OpenMP runtime libtorch loaded into this process (its own libgomp), read from /proc/self/maps once
     * the engine is up; null when there is none to be found. The kernels link to it, so their parallel
     * regions run on the threads that run libtorch's operators. A second runtime (the system's libgomp, or a
     * Java thread pool) would keep its own threads, and libtorch's spin-waiting threads would hold the cores
     * those need: measured, the kernels then ran no faster on two threads than on one.
     */
    static Path libtorchOpenMp() {
        try {
            ai.djl.engine.Engine.getEngine("PyTorch"); // loads libtorch, and with it its OpenMP runtime
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash < 0) {
                    continue;
                }
                Path lib = Path.of(line.substring(slash).strip());
                String name = lib.getFileName().toString();
                if ((name.startsWith("libgomp") || name.startsWith("libiomp")) && name.contains(".so") && Files.isRegularFile(lib)
                        && lib.toString().contains("pytorch")) {
                    return name.startsWith("libgomp") ? lib : null;
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("no OpenMP runtime of libtorch found: {}", e.toString());
        }
        return null;
    }

    /** The {@code flags} line of /proc/cpuinfo (what -march=native compiles for), or "" where there is none. */
    private static String cpuFlags() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst().orElse("");
        } catch (IOException | java.io.UncheckedIOException e) {
            return "";
        }
    }

    private static String key(byte[] source, String... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(source);
            for (String p : parts) {
                sha.update((byte) 0);
                sha.update(p.getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this Java runtime", e);
        }
    }

    /**
     * Whether a PyTorch array is contiguous. DJL's toByteBuffer(true) silently returns a contiguous
     * <em>copy</em> of a non-contiguous array, and an output written there would be lost, so every array is
     * checked first. DJL has no public call for it; its JNI binding (PyTorchLibrary.torchIsContiguous, the
     * one toByteBuffer itself uses) is reached by reflection.
     */
    private static final class Contiguity {
        static final MethodHandle IS_CONTIGUOUS;
        static final String ERROR;

        static {
            MethodHandle h = null;
            String error = null;
            try {
                Class<?> lib = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
                java.lang.reflect.Field f = lib.getDeclaredField("LIB");
                f.setAccessible(true);
                java.lang.reflect.Method m = lib.getDeclaredMethod("torchIsContiguous", long.class);
                m.setAccessible(true);
                h = MethodHandles.lookup().unreflect(m).bindTo(f.get(null));
            } catch (ReflectiveOperationException | RuntimeException e) {
                error = "DJL's PyTorchLibrary.torchIsContiguous is not reachable (" + e + "): this DJL version is not the one "
                        + "finetune4j was built against";
            }
            IS_CONTIGUOUS = h;
            ERROR = error;
        }

        static boolean test(PtNDArray a) {
            try {
                return (boolean) IS_CONTIGUOUS.invokeExact((long) a.getHandle());
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }
    }

    // ---- the kernels --------------------------------------------------------------------------------------

    /**
     * The end of a BERT sub-layer: sum = (y · mask) · keepScale + residual, out = LayerNorm(sum)
     * = (sum - mean) · rstd · gamma + beta, rstd = 1/sqrt(var + eps) with the biased variance (as
     * torch.nn.LayerNorm). y, residual, sum, out (n, H); mask (n, H) UINT8, or null for sum = y + residual
     * (keepScale is then ignored); gamma, beta (H); mean, rstd: n elements (any shape), written for the
     * backward pass. An output may be the same array as an input of its shape.
     */
    public static void dropoutResidualLayerNorm(NDArray y, NDArray mask, float keepScale, NDArray residual, NDArray gamma,
            NDArray beta, float eps, NDArray sum, NDArray mean, NDArray rstd, NDArray out) {
        String op = "dropoutResidualLayerNorm";
        requireAvailable();
        Shape shape = rowShape(op, "y", y);
        int h = (int) shape.tail();
        long n = shape.size() / h;
        ByteBuffer yb = floats(op, "y", y, shape);
        ByteBuffer mb = mask == null ? null : bytes(op, "mask", mask, shape);
        ByteBuffer rb = floats(op, "residual", residual, shape);
        ByteBuffer gb = floats(op, "gamma", gamma, new Shape(h));
        ByteBuffer bb = floats(op, "beta", beta, new Shape(h));
        ByteBuffer sb = floats(op, "sum", sum, shape);
        ByteBuffer meanb = floatsOfSize(op, "mean", mean, n);
        ByteBuffer rstdb = floatsOfSize(op, "rstd", rstd, n);
        ByteBuffer ob = floats(op, "out", out, shape);
        layerNormForward(yb, mb, keepScale, rb, gb, bb, eps, sb, meanb, rstdb, ob, h, 0,
                (int) n);
    }

    /**
     * Backward of {@link #dropoutResidualLayerNorm}. With g = dOut (+ dOutExtra when not null), both (n, H):
     * dSum (n, H) = dLoss/dsum, which is also the residual's gradient; dY (n, H) = dSum · mask · keepScale,
     * null allowed when mask is null (the caller then uses dSum; given, it receives a copy of dSum);
     * dGamma, dBeta (H) summed over all n rows. sum, mean, rstd as the forward wrote them. dSum may be dOut or
     * dOutExtra itself (in place).
     */
    public static void dropoutResidualLayerNormBackward(NDArray dOut, NDArray dOutExtra, NDArray sum, NDArray mean,
            NDArray rstd, NDArray gamma, NDArray mask, float keepScale, NDArray dSum, NDArray dY, NDArray dGamma,
            NDArray dBeta) {
        String op = "dropoutResidualLayerNormBackward";
        requireAvailable();
        Shape shape = rowShape(op, "dOut", dOut);
        int h = (int) shape.tail();
        long n = shape.size() / h;
        if (mask != null && dY == null) {
            throw new IllegalArgumentException(op + ": dY is null but mask is not: with dropout, dY = dSum * mask * keepScale "
                    + "needs an output array of dOut's shape " + shape);
        }
        ByteBuffer db = floats(op, "dOut", dOut, shape);
        ByteBuffer eb = dOutExtra == null ? null : floats(op, "dOutExtra", dOutExtra, shape);
        ByteBuffer sb = floats(op, "sum", sum, shape);
        ByteBuffer meanb = floatsOfSize(op, "mean", mean, n);
        ByteBuffer rstdb = floatsOfSize(op, "rstd", rstd, n);
        ByteBuffer gb = floats(op, "gamma", gamma, new Shape(h));
        ByteBuffer mb = mask == null ? null : bytes(op, "mask", mask, shape);
        ByteBuffer dsb = floats(op, "dSum", dSum, shape);
        ByteBuffer dyb = dY == null ? null : floats(op, "dY", dY, shape);
        ByteBuffer dgb = floats(op, "dGamma", dGamma, new Shape(h));
        ByteBuffer dbb = floats(op, "dBeta", dBeta, new Shape(h));
        int blocks = (int) ((n + LAYER_NORM_BLOCK - 1) / LAYER_NORM_BLOCK);
        ByteBuffer part = partials((long) blocks * 2 * h * Double.BYTES);
        layerNormBackward(db, eb, sb, meanb, rstdb, gb, mb, keepScale, dsb, dyb,
                part, h, LAYER_NORM_BLOCK, 0, (int) n);
        layerNormCombine(part, blocks, h, dgb, dbb);
    }

    /**
     * out = gelu(u), any shape: the exact form 0.5 u (1 + erf(u/sqrt 2)) (transformers' "gelu") or, with
     * tanhApprox, 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3))) ("gelu_new"). out has u's shape and must not
     * be u (the backward pass needs u).
     */
    public static void gelu(NDArray u, NDArray out, boolean tanhApprox) {
        String op = "gelu";
        requireAvailable();
        Shape shape = nonNull(op, "u", u).getShape();
        ByteBuffer ub = floats(op, "u", u, shape);
        ByteBuffer ob = floats(op, "out", out, shape);
        geluForward(ub, ob, tanhApprox, 0, shape.size());
    }

    /** dU = dOut · gelu'(u), all of u's shape; dU may be dOut itself. */
    public static void geluBackward(NDArray dOut, NDArray u, NDArray dU, boolean tanhApprox) {
        String op = "geluBackward";
        requireAvailable();
        Shape shape = nonNull(op, "u", u).getShape();
        ByteBuffer db = floats(op, "dOut", dOut, shape);
        ByteBuffer ub = floats(op, "u", u, shape);
        ByteBuffer dub = floats(op, "dU", dU, shape);
        geluBackward(db, ub, dub, tanhApprox, 0, shape.size());
    }

    /**
     * Attention probabilities: probs = softmax(scores · scale) over the last dimension with the keys whose
     * keyMask is 0 excluded (they get probability exactly 0, as adding -FLT_MAX before the softmax gives; a
     * row with no key attended gets 1/Tk everywhere, as that additive mask also gives), and
     * dropped = (probs · dropMask) · keepScale. scores (b, nh, Tq, Tk) raw q·k^T; keyMask (b, Tk) UINT8 or
     * null (all attended); dropMask (b, nh, Tq, Tk) UINT8 or null, and then dropped may be null (given, it
     * receives a copy of probs). probs may be scores itself.
     */
    public static void maskedSoftmaxDropout(NDArray scores, float scale, NDArray keyMask, NDArray dropMask, float keepScale,
            NDArray probs, NDArray dropped) {
        String op = "maskedSoftmaxDropout";
        requireAvailable();
        Shape shape = nonNull(op, "scores", scores).getShape();
        if (shape.dimension() != 4) {
            throw new IllegalArgumentException(op + ": scores must be (b, nh, Tq, Tk), got shape " + shape);
        }
        if (dropMask != null && dropped == null) {
            throw new IllegalArgumentException(op + ": dropped is null but dropMask is not: the dropped probabilities need an "
                    + "output array of scores' shape " + shape);
        }
        int tk = (int) shape.get(3);
        long rows = shape.size() / tk;
        long rowsPerItem = shape.get(1) * shape.get(2);
        ByteBuffer sb = floats(op, "scores", scores, shape);
        ByteBuffer kb = keyMask == null ? null : bytes(op, "keyMask", keyMask, new Shape(shape.get(0), tk));
        ByteBuffer dmb = dropMask == null ? null : bytes(op, "dropMask", dropMask, shape);
        ByteBuffer pb = floats(op, "probs", probs, shape);
        ByteBuffer drb = dropped == null ? null : floats(op, "dropped", dropped, shape);
        softmaxForward(sb, scale, kb, dmb, keepScale, pb, drb, (int) rowsPerItem, tk, 0,
                (int) rows);
    }

    /**
     * Backward of {@link #maskedSoftmaxDropout}, to the raw scores (before the scale): dP = (dDropped ·
     * dropMask) · keepScale (or dDropped when dropMask is null), dScores = scale · probs · (dP - rowsum(dP ·
     * probs)). All of probs' shape; dScores may be dDropped itself.
     */
    public static void maskedSoftmaxDropoutBackward(NDArray dDropped, NDArray probs, NDArray dropMask, float keepScale,
            float scale, NDArray dScores) {
        String op = "maskedSoftmaxDropoutBackward";
        requireAvailable();
        Shape shape = rowShape(op, "probs", probs);
        int tk = (int) shape.tail();
        long rows = shape.size() / tk;
        ByteBuffer db = floats(op, "dDropped", dDropped, shape);
        ByteBuffer pb = floats(op, "probs", probs, shape);
        ByteBuffer mb = dropMask == null ? null : bytes(op, "dropMask", dropMask, shape);
        ByteBuffer dsb = floats(op, "dScores", dScores, shape);
        softmaxBackward(db, pb, mb, keepScale, scale, dsb, tk, 0, (int) rows);
    }

    // ---- AdamW and dropout masks ---------------------------------------------------------------------------

    /**
     * AdamW's update of elements [from, to) of one parameter, on the calling thread (train.CpuUpdate splits
     * the work): {@code g' = g clip; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
     * w = w decay - stepSize m / (sqrt(v) + epsHat)}, in the order and float arithmetic of CpuUpdate's Java
     * loop, so the result is the same bit for bit, vectorised. All four buffers direct.
     */
    public static void adamwRange(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, long from, long to, float b1,
            float b2, float clip, float decay, float stepSize, float epsHat) {
        requireAvailable();
        if (!w.isDirect() || !g.isDirect() || !m.isDirect() || !v.isDirect()) {
            throw new IllegalArgumentException("adamwRange: every buffer must be direct (a view of native memory)");
        }
        long n = Math.min(Math.min(w.capacity(), g.capacity()), Math.min(m.capacity(), v.capacity()));
        if (from < 0 || to > n || from > to) {
            throw new IllegalArgumentException("adamwRange: range [" + from + ", " + to + ") outside the " + n + " elements");
        }
        adamw(w, g, m, v, from, to, b1, b2, clip, decay, stepSize, epsHat);
    }

    /**
     * Fills {@code out} (direct) with a dropout keep mask exactly as {@link Functional#fillMask} fills it from
     * {@code new SplittableRandom(seed)} (SplittableRandom's stream with the given gamma): byte pair k from
     * draw k + 1, each byte 1 when its 24-bit number is at least {@code drop}. Returns the number of draws
     * used, by which the caller advances its stream ({@code seed + draws * gamma}).
     */
    public static long dropoutMask(ByteBuffer out, long seed, long gamma, int drop) {
        requireAvailable();
        if (!out.isDirect()) {
            throw new IllegalArgumentException("dropoutMask: the mask buffer must be direct (a view of native memory)");
        }
        long n = out.capacity();
        long draws = (n + 1) / 2;
        dropoutMask(out, n, seed, gamma, drop, 0, draws);
        return draws;
    }

    /**
     * AdamW over {@code count} rows of an embedding table of width {@code h} whose moments are kept row by
     * row, on the calling thread, in the arithmetic of {@link #adamwRange}: row k's weights start at
     * {@code wRows[k] * h}; its gradient at {@code gAt[k]} in {@code g}, or zero when {@code gAt[k] < 0};
     * its moments at {@code mAt[k]} in m and v, or, when {@code mAt[k] < 0}, it has none (it never had a
     * gradient) and its update is {@code w decay - zeroTerm}.
     */
    public static void adamwTableRows(FloatBuffer w, float[] g, FloatBuffer m, FloatBuffer v, int[] wRows, int[] gAt, int[] mAt,
            int count, int h, float b1, float b2, float clip, float decay, float stepSize, float epsHat, float zeroTerm) {
        requireAvailable();
        if (!w.isDirect() || m != null && !m.isDirect() || v != null && !v.isDirect()) {
            throw new IllegalArgumentException("adamwTableRows: the weight and moment buffers must be direct");
        }
        if (count > wRows.length || count > gAt.length || count > mAt.length) {
            throw new IllegalArgumentException("adamwTableRows: " + count + " rows but shorter index arrays");
        }
        adamwRows(w, g, m, v, wRows, gAt, mAt, count, h, b1, b2, clip, decay, stepSize, epsHat, zeroTerm);
    }

    /** out (C) = the sum over rows of x (N, C): a linear layer's bias gradient from its output gradient. */
    public static void columnSums(NDArray x, NDArray out) {
        String op = "columnSums";
        requireAvailable();
        Shape shape = rowShape(op, "x", x);
        int c = (int) shape.tail();
        long n = shape.size() / c;
        ByteBuffer xb = floats(op, "x", x, shape);
        ByteBuffer ob = floats(op, "out", out, new Shape(c));
        columnSums(xb, ob, n, c, 0, c);
    }

    // ---- natives (fused_kernels.c) ------------------------------------------------------------------------

    private static native void adamwRows(FloatBuffer w, float[] g, FloatBuffer m, FloatBuffer v, int[] wRows, int[] gAt,
            int[] mAt, int count, int h, float b1, float b2, float clip, float decay, float stepSize, float epsHat,
            float zeroTerm);

    private static native void columnSums(ByteBuffer x, ByteBuffer out, long n, int c, long c0, long c1);

    private static native void adamw(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, long i0, long i1, float b1,
            float b2, float clip, float decay, float stepSize, float epsHat);

    private static native void dropoutMask(ByteBuffer out, long n, long seed, long gamma, int drop, long k0, long k1);

    private static native void layerNormForward(ByteBuffer y, ByteBuffer mask, float keepScale, ByteBuffer residual,
            ByteBuffer gamma, ByteBuffer beta, float eps, ByteBuffer sum, ByteBuffer mean, ByteBuffer rstd, ByteBuffer out, int h,
            int r0, int r1);

    private static native void layerNormBackward(ByteBuffer dOut, ByteBuffer dOutExtra, ByteBuffer sum, ByteBuffer mean,
            ByteBuffer rstd, ByteBuffer gamma, ByteBuffer mask, float keepScale, ByteBuffer dSum, ByteBuffer dY,
            ByteBuffer partials, int h, int block, int r0, int r1);

    private static native void layerNormCombine(ByteBuffer partials, int blocks, int h, ByteBuffer dGamma, ByteBuffer dBeta);

    private static native void geluForward(ByteBuffer u, ByteBuffer out, boolean tanhApprox, long i0, long i1);

    private static native void geluBackward(ByteBuffer dOut, ByteBuffer u, ByteBuffer dU, boolean tanhApprox, long i0, long i1);

    private static native void softmaxForward(ByteBuffer scores, float scale, ByteBuffer keyMask, ByteBuffer dropMask,
            float keepScale, ByteBuffer probs, ByteBuffer dropped, int rowsPerItem, int tk, int r0, int r1);

    private static native void softmaxBackward(ByteBuffer dDropped, ByteBuffer probs, ByteBuffer dropMask, float keepScale,
            float scale, ByteBuffer dScores, int tk, int r0, int r1);

    // ---- checks -------------------------------------------------------------------------------------------

    private static NDArray nonNull(String op, String name, NDArray a) {
        if (a == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        return a;
    }

    /** The shape of an array with at least one dimension and a non-empty last one. */
    private static Shape rowShape(String op, String name, NDArray a) {
        Shape s = nonNull(op, name, a).getShape();
        if (s.dimension() == 0 || s.tail() == 0) {
            throw new IllegalArgumentException(op + ": " + name + " must have a non-empty last dimension, got shape " + s);
        }
        return s;
    }

    private static ByteBuffer floats(String op, String name, NDArray a, Shape shape) {
        return buffer(op, name, a, DataType.FLOAT32, shape, -1);
    }

    private static ByteBuffer floatsOfSize(String op, String name, NDArray a, long size) {
        return buffer(op, name, a, DataType.FLOAT32, null, size);
    }

    private static ByteBuffer bytes(String op, String name, NDArray a, Shape shape) {
        return buffer(op, name, a, DataType.UINT8, shape, -1);
    }

    /**
     * The array's own memory as a direct buffer, after checking it is a contiguous PyTorch CPU array of the
     * dtype and shape (or, with shape null, number of elements) the kernel needs.
     */
    private static ByteBuffer buffer(String op, String name, NDArray a, DataType type, Shape shape, long size) {
        nonNull(op, name, a);
        if (!(a instanceof PtNDArray pt)) {
            throw new IllegalArgumentException(op + ": " + name + " is a " + a.getClass().getSimpleName()
                    + ", not a PyTorch array: the fused kernels run on PyTorch CPU arrays only");
        }
        if (!ai.djl.Device.cpu().equals(a.getDevice())) {
            throw new IllegalArgumentException(op + ": " + name + " is on " + a.getDevice() + ": the fused kernels are for the CPU");
        }
        if (a.getDataType() != type) {
            throw new IllegalArgumentException(op + ": " + name + " is " + a.getDataType() + ", needs " + type);
        }
        if (shape != null && !a.getShape().equals(shape)) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + a.getShape() + ", needs " + shape);
        }
        if (shape == null && a.getShape().size() != size) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + a.getShape() + " (" + a.getShape().size()
                    + " elements), needs " + size + " elements (one per row)");
        }
        if (!Contiguity.test(pt)) {
            throw new IllegalArgumentException(op + ": " + name + " is not contiguous (a transposed or sliced view); pass a "
                    + "contiguous copy, e.g. x.flatten().reshape(x.getShape())");
        }
        ByteBuffer b = a.toByteBuffer(true);
        if (!b.isDirect()) {
            throw new IllegalArgumentException(op + ": " + name + " is not a dense CPU tensor (sparse or MKL-DNN layout)");
        }
        return b;
    }

    // ---- threads ------------------------------------------------------------------------------------------

    /** This thread's scratch for the dGamma/dBeta partial sums, grown as needed. */
    private static final ThreadLocal<ByteBuffer> PARTIALS = new ThreadLocal<>();

    private static ByteBuffer partials(long bytes) {
        ByteBuffer b = PARTIALS.get();
        if (b == null || b.capacity() < bytes) {
            if (bytes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("dropoutResidualLayerNormBackward: too many rows for the partial sums (" + bytes
                        + " bytes)");
            }
            b = ByteBuffer.allocateDirect((int) Math.max(bytes, 64 * 1024)).order(ByteOrder.nativeOrder());
            PARTIALS.set(b);
        }
        return b;
    }
}
