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
 * method casts to bf16, multiplies with oneDNN's bf16 kernels (AVX-512 BF16 / AMX: 2-4x the fp32
 * rate on this project's CPU, BENCHMARKS.md) accumulating in fp32, and casts the result back — what
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

    /** The module's source: one method per operation. */
    static final String SOURCE = String.join("\n",
            "class Kernels(Module):",
            "  __parameters__ = []",
            "  __buffers__ = []",
            "  training : bool",
            "  def forward(self: __torch__.Kernels, x: Tensor) -> Tensor:",
            "    return x",
            // y = x W^T + b with bf16 products and fp32 accumulation; x, W, b and y are fp32. The rows of x
            // (all dimensions but the last, flattened) are padded to a multiple of ROWS: oneDNN builds a
            // kernel per matrix shape, and packed or length-grouped batches would otherwise bring new shapes
            // all the time (measured: half the bf16 rate).
            "  def linear_bf16(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Tensor) -> Tensor:",
            "    y = self.rows_bf16(x, w, torch.to(b, " + BFLOAT16 + "))",
            "    return y",
            "  def linear_bf16_nobias(self: __torch__.Kernels, x: Tensor, w: Tensor) -> Tensor:",
            "    return self.rows_bf16(x, w, None)",
            "  def rows_bf16(self: __torch__.Kernels, x: Tensor, w: Tensor, b: Optional[Tensor]) -> Tensor:",
            "    shape = torch.size(x)",
            "    k = torch.size(x, -1)",
            "    x2 = torch.reshape(torch.to(x, " + BFLOAT16 + "), [-1, k])",
            "    n = torch.size(x2, 0)",
            "    padded = torch.mul(torch.floordiv(torch.add(n, " + (ROWS - 1) + "), " + ROWS + "), " + ROWS + ")",
            "    x3 = torch.constant_pad_nd(x2, [0, 0, 0, torch.sub(padded, n)], 0.)",
            "    y = torch.slice(torch.linear(x3, torch.to(w, " + BFLOAT16 + "), b), 0, 0, n)",
            "    out = torch.list(shape)",
            "    _0 = torch._set_item(out, -1, torch.size(w, 0))",
            "    return torch.reshape(torch.to(y, " + FLOAT32 + "), out)",
            "");

    private static volatile ScriptedKernels instance;

    private final NDManager owner; // keeps the module's native handle alive for the process
    private final PtSymbolBlock module;

    private ScriptedKernels(NDManager owner, PtSymbolBlock module) {
        this.owner = owner;
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
                        k = new ScriptedKernels(m, block);
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
        NDArray method = x.getManager().create(new Shape(0)); // (0): names the method; not an input
        method.setName("module_method:" + (bias == null ? "linear_bf16_nobias" : "linear_bf16"));
        NDList in = bias == null ? new NDList(method, x, weight) : new NDList(method, x, weight, bias);
        NDArray y = IValueUtils.forward(module, in, training).singletonOrThrow(); // (..., out), on x's manager
        method.close();
        return y;
    }

    /** The archive torch::jit::load reads (the layout torch.jit.save writes). */
    static byte[] archive() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            store(zip, "kernels/data.pkl", modulePickle());
            store(zip, "kernels/code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            store(zip, "kernels/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'}); // pickle of ()
            store(zip, "kernels/version", "8\n".getBytes(StandardCharsets.US_ASCII));
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
