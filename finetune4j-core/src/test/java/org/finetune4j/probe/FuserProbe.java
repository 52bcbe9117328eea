package org.finetune4j.probe;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Does PyTorch's TorchScript CPU fuser (NNC / TensorExpr) speed up the elementwise parts of a BERT layer's
 * forward + backward here? One JVM measures one case under one fuser setting; scripts/probes/fuser-probe.sh
 * runs the grid and prints the table.
 *
 * <p>The case runs as a method of a TorchScript module written here (the archive layout of
 * {@code org.finetune4j.nn.ScriptedKernels}), called through DJL with autograd on, and backward of
 * sum(out * upstream) through DJL's GradientCollector, as finetune4j's training step does; or ("eager")
 * as the same chain of plain DJL ops, what finetune4j runs today. The fuser switches are set by
 * scripts/probes/fuser_switches.c, loaded after DJL's engine ({@code -Dfuser.switches=PATH.so}).
 *
 * <pre>
 * java -cp TEST_CLASSPATH -Dai.djl.pytorch.num_threads=1 -Dfuser.switches=fuser_switches.so \
 *     org.finetune4j.probe.FuserProbe CASE script|eager [WARMUP REPEATS MIN_MS_PER_REPEAT]
 * </pre>
 *
 * Prints {@code RESULT case impl threads ms_median ms_min ms_max iters/repeat maxdiff_out maxdiff_grad}:
 * milliseconds per forward + backward, and how far the scripted output and the gradient of the first
 * input are from the eager chain's.
 */
public final class FuserProbe {
    private static final int B = 16; // batch
    private static final int T = 34; // tokens
    private static final int H = 384; // MiniLM hidden size
    private static final int HEADS = 12;
    private static final int HD = H / HEADS; // 32
    private static final int I = 1536; // intermediate size
    private static final int ROWS = B * T; // 544
    private static final float EPS = 1e-12f; // LayerNorm epsilon (also written as 1e-12 in SOURCE)

    /** The module's source, in the form torch.jit.save writes code/__torch__.py. */
    static final String SOURCE = String.join("\n",
            "class Probe(Module):",
            "  __parameters__ = []",
            "  __buffers__ = []",
            "  training : bool",
            "  def forward(self: __torch__.Probe, x: Tensor) -> Tensor:",
            "    return x",
            // (544, 1536): the intermediate bias + erf GELU of the feed-forward block
            "  def gelu(self: __torch__.Probe, x: Tensor, b: Tensor) -> Tensor:",
            "    return torch.gelu(torch.add(x, b))",
            // (544, 1536): bias + tanh GELU written out, nine elementwise ops
            "  def gelu_tanh(self: __torch__.Probe, x: Tensor, b: Tensor) -> Tensor:",
            "    h = torch.add(x, b)",
            "    u = torch.mul(torch.add(h, torch.mul(torch.mul(torch.mul(h, h), h), 0.044715)), 0.7978845608028654)",
            "    return torch.mul(torch.mul(h, 0.5), torch.add(torch.tanh(u), 1.))",
            // (544, 384): bias + residual add, then a per-channel scale (a LayerNorm-free chain)
            "  def residual(self: __torch__.Probe, x: Tensor, b: Tensor, r: Tensor, g: Tensor) -> Tensor:",
            "    return torch.mul(torch.add(torch.add(x, b), r), g)",
            // (B, T, H) -> (B, T, H): a post-LN BERT encoder layer without dropout
            "  def layer(self: __torch__.Probe, x: Tensor, mask: Tensor, wq: Tensor, bq: Tensor, wk: Tensor, bk: Tensor,"
                    + " wv: Tensor, bv: Tensor, wo: Tensor, bo: Tensor, g1: Tensor, be1: Tensor, wi: Tensor, bi: Tensor,"
                    + " w2: Tensor, b2: Tensor, g2: Tensor, be2: Tensor) -> Tensor:",
            "    n = torch.size(x, 0)",
            "    t = torch.size(x, 1)",
            "    q = torch.transpose(torch.view(torch.linear(x, wq, bq), [n, t, " + HEADS + ", " + HD + "]), 1, 2)",
            "    k = torch.transpose(torch.view(torch.linear(x, wk, bk), [n, t, " + HEADS + ", " + HD + "]), 1, 2)",
            "    v = torch.transpose(torch.view(torch.linear(x, wv, bv), [n, t, " + HEADS + ", " + HD + "]), 1, 2)",
            "    s = torch.add(torch.div(torch.matmul(q, torch.transpose(k, 2, 3)), " + Math.sqrt(HD) + "), mask)",
            "    p = torch.softmax(s, -1)",
            "    c = torch.reshape(torch.transpose(torch.matmul(p, v), 1, 2), [n, t, " + H + "])",
            "    h1 = torch.layer_norm(torch.add(torch.linear(c, wo, bo), x), [" + H + "], g1, be1, 1e-12)",
            "    i = torch.gelu(torch.linear(h1, wi, bi))",
            "    return torch.layer_norm(torch.add(torch.linear(i, w2, b2), h1), [" + H + "], g2, be2, 1e-12)",
            "");

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: FuserProbe gelu|gelu_tanh|residual|layer script|eager"
                    + " [WARMUP REPEATS MIN_MS_PER_REPEAT]");
        }
        String kase = args[0];
        boolean script = switch (args[1]) {
            case "script" -> true;
            case "eager" -> false;
            default -> throw new IllegalArgumentException("impl must be script or eager, not " + args[1]);
        };
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        int repeats = args.length > 3 ? Integer.parseInt(args[3]) : 5;
        long minMs = args.length > 4 ? Long.parseLong(args[4]) : 500;

        try (PtNDManager base = (PtNDManager) NDManager.newBaseManager()) {
            // libtorch is loaded now: set the fuser switches (and print libtorch's view of them)
            String switches = System.getProperty("fuser.switches");
            if (switches != null) {
                System.load(switches);
            }
            base.getEngine().setRandomSeed(42);
            int threads = JniUtils.getNumThreads();
            NDList leaves = inputs(kase, base);
            NDArray mask = kase.equals("layer") ? mask(base) : null;
            NDArray upstream = base.randomNormal(outputShape(kase));
            for (NDArray a : leaves) {
                a.setRequiresGradient(true);
            }
            PtSymbolBlock module = script ? JniUtils.loadModule(base, new ByteArrayInputStream(archive()), true, false) : null;

            for (int i = 0; i < warmup; i++) {
                step(module, kase, leaves, mask, upstream, base);
            }
            double[] ms = new double[repeats];
            int iters = 0;
            for (int r = 0; r < repeats; r++) {
                long t0 = System.nanoTime();
                int n = 0;
                do {
                    step(module, kase, leaves, mask, upstream, base);
                    n++;
                } while (n < 3 || System.nanoTime() - t0 < minMs * 1_000_000L);
                ms[r] = (System.nanoTime() - t0) / 1e6 / n;
                iters = Math.max(iters, n);
            }

            // -Dfuser.profile=FILE.json: a chrome trace of three more steps (libtorch's autograd profiler)
            String profile = System.getProperty("fuser.profile");
            if (profile != null) {
                JniUtils.startProfile(false, false, false);
                for (int i = 0; i < 3; i++) {
                    step(module, kase, leaves, mask, upstream, base);
                }
                JniUtils.stopProfile(profile);
            }

            // Agreement with the eager chain: output and the gradient of the first input, on fresh leaves
            double[] diff = script ? agreement(module, kase, leaves, mask, upstream, base) : new double[] {0, 0};
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            System.out.printf("RESULT %s %s %d %.3f %.3f %.3f %d %.2e %.2e%n", kase, args[1], threads,
                    sorted[repeats / 2], sorted[0], sorted[repeats - 1], iters, diff[0], diff[1]);
            System.out.println("REPEATS " + Arrays.toString(Arrays.stream(ms).map(v -> Math.round(v * 1000) / 1000.0).toArray()));
        }
    }

    /** One forward + backward of sum(out * upstream); every array it makes is closed with its manager. */
    private static void step(PtSymbolBlock module, String kase, NDList leaves, NDArray mask, NDArray upstream,
            NDManager base) {
        try (NDManager it = base.newSubManager()) {
            for (NDArray a : leaves) {
                a.tempAttach(it); // results of ops on the leaves go to `it`; the leaves go back to base on close
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out = module != null ? scripted(module, kase, leaves, mask) : eager(kase, leaves, mask);
                gc.backward(out.mul(upstream).sum());
            }
        }
    }

    private static double[] agreement(PtSymbolBlock module, String kase, NDList leaves, NDArray mask, NDArray upstream,
            NDManager base) {
        try (NDManager m = base.newSubManager()) {
            double[] d = new double[2];
            NDArray[] outs = new NDArray[2];
            NDArray[] grads = new NDArray[2];
            for (int s = 0; s < 2; s++) {
                NDList fresh = new NDList();
                for (NDArray a : leaves) {
                    NDArray c = a.duplicate();
                    c.attach(m);
                    c.setRequiresGradient(true);
                    fresh.add(c);
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    outs[s] = s == 0 ? scripted(module, kase, fresh, mask) : eager(kase, fresh, mask);
                    gc.backward(outs[s].mul(upstream).sum());
                }
                grads[s] = fresh.get(0).getGradient().duplicate();
            }
            d[0] = outs[0].sub(outs[1]).abs().max().getFloat();
            d[1] = grads[0].sub(grads[1]).abs().max().getFloat();
            return d;
        }
    }

    private static NDArray scripted(PtSymbolBlock module, String kase, NDList leaves, NDArray mask) {
        NDList in = new NDList();
        NDArray name = leaves.get(0).getManager().create(new Shape(0)); // (0): names the method; not an input
        name.setName("module_method:" + kase);
        in.add(name);
        in.add(leaves.get(0));
        if (mask != null) {
            in.add(mask);
        }
        in.addAll(leaves.subNDList(1));
        return IValueUtils.forward(module, in, true).singletonOrThrow();
    }

    /** The same chains as plain DJL ops. */
    private static NDArray eager(String kase, NDList l, NDArray mask) {
        switch (kase) {
            case "gelu":
                return Activation.gelu(l.get(0).add(l.get(1))); // (544, 1536)
            case "gelu_tanh": {
                NDArray h = l.get(0).add(l.get(1)); // (544, 1536)
                NDArray u = h.mul(h).mul(h).mul(0.044715f).add(h).mul((float) Math.sqrt(2 / Math.PI));
                return h.mul(0.5f).mul(u.tanh().add(1f));
            }
            case "residual":
                return l.get(0).add(l.get(1)).add(l.get(2)).mul(l.get(3)); // (544, 384)
            case "layer":
                return eagerLayer(l, mask);
            default:
                throw new IllegalArgumentException("unknown case " + kase + "; expected gelu, gelu_tanh, residual or layer");
        }
    }

    private static NDArray eagerLayer(NDList l, NDArray mask) {
        NDArray x = l.get(0); // (B, T, H)
        NDArray q = linear(x, l.get(1), l.get(2)).reshape(B, T, HEADS, HD).transpose(0, 2, 1, 3); // (B, nh, T, hd)
        NDArray k = linear(x, l.get(3), l.get(4)).reshape(B, T, HEADS, HD).transpose(0, 2, 1, 3); // (B, nh, T, hd)
        NDArray v = linear(x, l.get(5), l.get(6)).reshape(B, T, HEADS, HD).transpose(0, 2, 1, 3); // (B, nh, T, hd)
        NDArray s = q.matMul(k.transpose(0, 1, 3, 2)).div((float) Math.sqrt(HD)).add(mask); // (B, nh, T, T)
        NDArray c = s.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(B, T, H); // (B, T, H)
        NDArray h1 = LayerNorm.layerNorm(linear(c, l.get(7), l.get(8)).add(x), new Shape(H), l.get(9), l.get(10), EPS)
                .singletonOrThrow(); // (B, T, H)
        NDArray i = Activation.gelu(linear(h1, l.get(11), l.get(12))); // (B, T, I)
        return LayerNorm.layerNorm(linear(i, l.get(13), l.get(14)).add(h1), new Shape(H), l.get(15), l.get(16), EPS)
                .singletonOrThrow(); // (B, T, H)
    }

    private static NDArray linear(NDArray x, NDArray w, NDArray b) {
        return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
    }

    /** The leaves that require gradients, in the method's argument order (the mask aside). */
    private static NDList inputs(String kase, NDManager m) {
        return switch (kase) {
            case "gelu", "gelu_tanh" -> new NDList(m.randomNormal(new Shape(ROWS, I)), m.randomNormal(new Shape(I)));
            case "residual" -> new NDList(m.randomNormal(new Shape(ROWS, H)), m.randomNormal(new Shape(H)),
                    m.randomNormal(new Shape(ROWS, H)), m.randomNormal(new Shape(H)));
            case "layer" -> {
                List<NDArray> p = new ArrayList<>();
                p.add(m.randomNormal(new Shape(B, T, H))); // x
                for (int j = 0; j < 4; j++) { // query, key, value, attention output
                    p.add(m.randomNormal(0, 0.05f, new Shape(H, H), ai.djl.ndarray.types.DataType.FLOAT32));
                    p.add(m.randomNormal(0, 0.05f, new Shape(H), ai.djl.ndarray.types.DataType.FLOAT32));
                }
                p.add(m.ones(new Shape(H)));
                p.add(m.zeros(new Shape(H)));
                p.add(m.randomNormal(0, 0.05f, new Shape(I, H), ai.djl.ndarray.types.DataType.FLOAT32));
                p.add(m.randomNormal(0, 0.05f, new Shape(I), ai.djl.ndarray.types.DataType.FLOAT32));
                p.add(m.randomNormal(0, 0.05f, new Shape(H, I), ai.djl.ndarray.types.DataType.FLOAT32));
                p.add(m.randomNormal(0, 0.05f, new Shape(H), ai.djl.ndarray.types.DataType.FLOAT32));
                p.add(m.ones(new Shape(H)));
                p.add(m.zeros(new Shape(H)));
                yield new NDList(p);
            }
            default -> throw new IllegalArgumentException("unknown case " + kase + "; expected gelu, gelu_tanh, residual or layer");
        };
    }

    private static Shape outputShape(String kase) {
        return switch (kase) {
            case "gelu", "gelu_tanh" -> new Shape(ROWS, I);
            case "residual" -> new Shape(ROWS, H);
            default -> new Shape(B, T, H);
        };
    }

    /** (B, 1, 1, T) additive key mask: the last quarter of each row's tokens are padding. */
    private static NDArray mask(NDManager m) {
        float[] v = new float[B * T];
        for (int b = 0; b < B; b++) {
            for (int t = T - T / 4; t < T; t++) {
                v[b * T + t] = -1e9f;
            }
        }
        return m.create(v, new Shape(B, 1, 1, T));
    }

    /** The archive torch::jit::load reads (the layout ScriptedKernels writes). */
    private static byte[] archive() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            store(zip, "probe/data.pkl", pickle());
            store(zip, "probe/code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            store(zip, "probe/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'}); // pickle of ()
            store(zip, "probe/version", "10\n".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    /** Pickle protocol 2 of a __torch__.Probe object whose state is {"training": True}. */
    private static byte[] pickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.writeBytes(new byte[] {(byte) 0x80, 2}); // PROTO 2
        p.writeBytes("c__torch__\nProbe\n".getBytes(StandardCharsets.US_ASCII)); // GLOBAL
        p.writeBytes(new byte[] {')', (byte) 0x81, '}'}); // EMPTY_TUPLE NEWOBJ EMPTY_DICT
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.writeBytes(new byte[] {'X', (byte) key.length, 0, 0, 0}); // BINUNICODE
        p.writeBytes(key);
        p.writeBytes(new byte[] {(byte) 0x88, 's', 'b', '.'}); // NEWTRUE SETITEM BUILD STOP
        return p.toByteArray();
    }

    private static void store(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
