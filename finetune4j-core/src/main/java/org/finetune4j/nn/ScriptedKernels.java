package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Operations DJL's NDArray API cannot express safely, run as methods of a small TorchScript module
 * that this class writes itself (no Python is involved) and libtorch compiles when it is loaded.
 *
 * <p>The reason is bf16. DJL 0.35's JNI maps only eight dtypes to PyTorch's; any call that passes
 * {@code DataType.BFLOAT16} (toType, create, softmax with a dtype) ends in {@code std::terminate} and
 * takes the JVM with it (DJL-NOTES.md). Here every bf16 tensor is created and consumed inside one
 * TorchScript method: inputs and outputs are fp32, so no bf16 tensor ever reaches DJL. Inside, the
 * method casts to bf16, multiplies with oneDNN's bf16 kernels (AVX-512 BF16 / AMX: about twice the fp32
 * rate on this project's CPU, docs/performance.md) accumulating in fp32, and casts the result back — what
 * torch.autocast does for a linear layer. Autograd records the casts, so the gradient of an fp32
 * master weight arrives in fp32.
 *
 * <p>A TorchScript archive is a zip of the module's source ({@code code/__torch__.py}, in the form
 * torch.jit.save writes), its pickled object ({@code data.pkl}: a {@code __torch__.Kernels} with only
 * {@code training} set), an empty constants table and the format version. Loaded once per process.
 */
public final class ScriptedKernels {
    /** PyTorch's ScalarType codes, as serialized TorchScript writes dtypes. */
    private static final int FLOAT32 = 6;
    private static final int BFLOAT16 = 15;
    /** bf16 products pad their rows to a multiple of this (see linear_bf16). */
    static final int ROWS = 64;

    /**
     * The feed-forward activations the fused kernel knows, by config name (transformers' ACT2FN), and
     * their TorchScript calls on the bf16 inner activations h.
     */
    static final java.util.Map<String, String> FFN_ACTIVATIONS = java.util.Map.of(
            "gelu", "torch.gelu(h)",
            "gelu_new", "torch.gelu(h, approximate=\"tanh\")",
            "gelu_pytorch_tanh", "torch.gelu(h, approximate=\"tanh\")",
            "gelu_fast", "torch.gelu(h, approximate=\"tanh\")",
            "relu", "torch.relu(h)");

    /**
     * The module's source: one method per operation. Every public method takes and returns fp32; bf16
     * lives only inside. Rows (all dimensions but the last, flattened) are padded to a multiple of
     * {@value #ROWS} before a product: oneDNN builds a kernel per matrix shape, and packed or
     * length-grouped batches would otherwise bring new shapes all the time (measured: half the bf16 rate).
     */
    static final String SOURCE = source();

    private static String source() {
        String bf16 = Integer.toString(BFLOAT16);
        List<String> s = new ArrayList<>(List.of(
                "class Kernels(Module):",
                "  __parameters__ = []",
                "  __buffers__ = []",
                "  training : bool",
                "  def forward(self: __torch__.Kernels, x: Tensor) -> Tensor:",
                "    return x",
                // x (..., k) fp32 -> (R, k) bf16, R = the rows rounded up to a multiple of ROWS
                "  def rows(self: __torch__.Kernels, x: Tensor) -> Tensor:",
                "    x2 = torch.reshape(torch.to(x, " + bf16 + "), [-1, torch.size(x, -1)])",
                "    n = torch.size(x2, 0)",
                "    padded = torch.mul(torch.floordiv(torch.add(n, " + (ROWS - 1) + "), " + ROWS + "), " + ROWS + ")",
                "    return torch.constant_pad_nd(x2, [0, 0, 0, torch.sub(padded, n)], 0.)",
                // y (R, m) bf16 -> (..., m) fp32 in the shape of like (..., k)
                "  def unrows(self: __torch__.Kernels, y: Tensor, like: Tensor) -> Tensor:",
                "    out = torch.list(torch.size(like))",
                "    _0 = torch._set_item(out, -1, torch.size(y, 1))",
                "    n = torch.floordiv(torch.numel(like), torch.size(like, -1))",
                "    return torch.reshape(torch.to(torch.slice(y, 0, 0, n), " + FLOAT32 + "), out)",
                // y = x W^T + b
                "  def linear_bf16(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Tensor) -> Tensor:",
                "    y = torch.linear(self.rows(x), torch.to(w, " + bf16 + "), torch.to(b, " + bf16 + "))",
                "    return self.unrows(y, x)",
                "  def linear_bf16_nobias(self: __torch__.Kernels, x: Tensor, w: Tensor) -> Tensor:",
                "    return self.unrows(torch.linear(self.rows(x), torch.to(w, " + bf16 + ")), x)",
                // a (n, p)^T b (n, q) -> (p, q): a weight's gradient; n (the tokens) padded with zero rows, which add nothing
                "  def matmul_tn_bf16(self: __torch__.Kernels, a: Tensor, b: Tensor) -> Tensor:",
                "    return torch.to(torch.matmul(torch.t(self.rows(a)), self.rows(b)), " + FLOAT32 + ")"));
        // y = act(x W1^T + b1) W2^T + b2, the inner activations h kept in bf16
        for (Map.Entry<String, String> a : new java.util.TreeMap<>(FFN_ACTIVATIONS).entrySet()) {
            s.addAll(List.of(
                    "  def " + ffnMethod(a.getKey()) + "(self: __torch__.Kernels, x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor,"
                            + " b2: Tensor) -> Tensor:",
                    "    h = torch.linear(self.rows(x), torch.to(w1, " + bf16 + "), torch.to(b1, " + bf16 + "))",
                    "    h = " + a.getValue(),
                    "    y = torch.linear(h, torch.to(w2, " + bf16 + "), torch.to(b2, " + bf16 + "))",
                    "    return self.unrows(y, x)"));
        }
        s.add("");
        return String.join("\n", s);
    }

    static String ffnMethod(String activation) {
        return "ffn_bf16_" + activation;
    }

    private static volatile ScriptedKernels instance;

    private final PtSymbolBlock module; // with the manager it was loaded on, held for the process

    private ScriptedKernels(PtSymbolBlock module) {
        this.module = module;
    }

    /** The process's kernels, compiled on first use; an exception if libtorch rejects the module. */
    public static ScriptedKernels get() {
        ScriptedKernels k = instance;
        if (k == null) {
            synchronized (ScriptedKernels.class) {
                k = instance;
                if (k == null) {
                    PtNDManager m = (PtNDManager) NDManager.newBaseManager();
                    try {
                        PtSymbolBlock block = JniUtils.loadModule(m, new ByteArrayInputStream(archive()), true, false);
                        k = new ScriptedKernels(block);
                    } catch (IOException e) {
                        m.close();
                        throw new UncheckedIOException(e);
                    } catch (RuntimeException e) {
                        m.close();
                        throw e;
                    }
                    instance = k;
                }
            }
        }
        return k;
    }

    /**
     * x (..., in) W (out, in)^T + b (out) -> (..., out), fp32 in and out, products in bf16. With
     * {@code training} the call is recorded by autograd (gradients flow to x, W and b).
     */
    public NDArray linearBf16(NDArray x, NDArray weight, NDArray bias, boolean training) {
        return bias == null ? call("linear_bf16_nobias", training, x, weight) : call("linear_bf16", training, x, weight, bias);
    }

    /**
     * a (n, p)^T b (n, q) -> (p, q), fp32 in and out, the product in bf16 with fp32 accumulation: a linear
     * layer's weight gradient dy^T x in the hand-written backward (models.FusedBertLayers), which calls it with
     * autograd's recording off. (Not in inference mode: its result is accumulated in place later, which
     * PyTorch refuses for an inference-mode tensor.)
     */
    public NDArray matmulTnBf16(NDArray a, NDArray b) {
        return call("matmul_tn_bf16", true, a, b);
    }

    /** Whether {@link #feedForwardBf16} has a kernel for this activation. */
    public static boolean fusesFeedForward(String activation) {
        return FFN_ACTIVATIONS.containsKey(activation);
    }

    /**
     * act(x W1^T + b1) W2^T + b2 for x (..., in) -> (..., out), fp32 in and out, with both products and the
     * activation in bf16 (the (..., inner) activations never leave bf16).
     */
    public NDArray feedForwardBf16(NDArray x, NDArray w1, NDArray b1, String activation, NDArray w2, NDArray b2,
            boolean training) {
        if (!fusesFeedForward(activation)) {
            throw new IllegalArgumentException("no fused bf16 feed-forward for activation " + activation);
        }
        return call(ffnMethod(activation), training, x, w1, b1, w2, b2);
    }

    /** Runs a method on fp32 arrays; the result goes to the first array's manager. */
    private NDArray call(String method, boolean training, NDArray... args) {
        NDArray name = args[0].getManager().create(new Shape(0)); // (0): names the method; not an input
        name.setName("module_method:" + method);
        NDList in = new NDList(args.length + 1);
        in.add(name);
        in.addAll(new NDList(args));
        NDArray y = IValueUtils.forward(module, in, training).singletonOrThrow();
        name.close();
        return y;
    }

    /** The archive torch::jit::load reads (the layout torch.jit.save writes). */
    static byte[] archive() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            store(zip, "kernels/data.pkl", modulePickle());
            store(zip, "kernels/code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            store(zip, "kernels/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'}); // pickle of ()
            // File format 10, PyTorch 2.x's: under an older number libtorch rewrites ops to their old schemas
            // (aten::gelu without approximate, for one).
            store(zip, "kernels/version", "10\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Pickle protocol 2 of a __torch__.Kernels object whose state is {"training": True}. */
    private static byte[] modulePickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80); // PROTO
        p.write(2);
        p.writeBytes("c__torch__\nKernels\n".getBytes(StandardCharsets.US_ASCII)); // GLOBAL
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X'); // BINUNICODE, 4-byte little-endian length
        p.writeBytes(new byte[] {(byte) key.length, 0, 0, 0});
        p.writeBytes(key);
        p.write(0x88); // NEWTRUE
        p.write('s'); // SETITEM
        p.write('b'); // BUILD
        p.write('.'); // STOP
        return p.toByteArray();
    }

    /** Zip entries are stored uncompressed, as torch.jit.save writes them. */
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
