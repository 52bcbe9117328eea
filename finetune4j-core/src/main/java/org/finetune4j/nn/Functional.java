package org.finetune4j.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/** Stateless operations shared by the architectures. */
public final class Functional {
    private Functional() {
    }

    /**
     * Runs {@code layer} on x in a native-memory scope of its own and keeps only the result, so a layer's
     * intermediates (queries, keys, attention scores and probabilities, the feed-forward inner
     * activations) are freed when the layer ends instead of when the whole batch ends. At inference
     * that bounds the memory of a batch to about one layer's worth (a batch of 64 x 128 tokens kept
     * every layer's scores alive: hundreds of MB). While training, autograd keeps its own references
     * to what backward needs, so closing the Java handles frees only what nothing needs. Results attach
     * to their first operand's manager; x joins the scope for the call and goes back afterwards.
     */
    public static NDArray scoped(NDArray x, UnaryOperator<NDArray> layer) {
        NDManager outer = x.getManager();
        try (NDManager scope = outer.newSubManager()) {
            x.tempAttach(scope);
            NDArray y = layer.apply(x);
            y.attach(outer);
            return y;
        }
    }

    /**
     * A 0-dim constant of x's dtype, in memory PyTorch owns. Use it instead of DJL's {@code x.mul(2.0)}
     * style overloads wherever autograd may record the op: those wrap the number in a tensor over a Java
     * direct buffer (from_blob) and close it at once, but autograd keeps that tensor for the backward
     * pass (MulBackward and DivBackward save their other operand), so after the next garbage collection
     * backward read freed memory. That was the intermittent "gradient norm is NaN" (DJL-NOTES.md): the
     * attention scale 1/sqrt(hs) came back as whatever malloc had put there since.
     */
    public static NDArray scalar(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType()); // ()
    }

    /**
     * This thread's dropout random numbers; {@link #seed} restarts them. It is SplittableRandom's stream
     * (splitmix64: draw k is mix64(seed + k·gamma)) kept as its state, so that the C kernels can draw the
     * same numbers ({@link FusedKernels#dropoutMask}).
     */
    private static final ThreadLocal<MaskStream> DROPOUT_RANDOM = ThreadLocal.withInitial(() -> new MaskStream(0));

    /** java.util.SplittableRandom(seed)'s numbers, with the state in view. */
    static final class MaskStream {
        static final long GAMMA = 0x9e3779b97f4a7c15L; // SplittableRandom's golden gamma
        long seed;

        MaskStream(long seed) {
            this.seed = seed;
        }

        long nextLong() {
            long z = seed += GAMMA;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
    }

    /**
     * Seeds PyTorch's generator and this thread's dropout masks: everything random in a training step is
     * then a function of {@code seed}.
     */
    public static void seed(long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        DROPOUT_RANDOM.set(new MaskStream(seed));
    }

    /**
     * Dropout with probability p, active only while training (torch.nn.functional.dropout): each element
     * is kept with probability 1 - p and scaled by 1 / (1 - p), or zeroed.
     *
     * <p>On the CPU the mask is drawn here as bytes, into a tensor PyTorch allocated (so autograd may keep
     * it for backward): y = (x · mask) · 1/(1 - p), bit for bit what a float mask of 0 and 1/(1 - p) gives.
     * Autograd keeps the one-byte mask for backward instead of a four-byte one, which lowers the peak of a
     * training step by tens of MB. PyTorch's CPU dropout draws with bernoulli_, then divides and
     * multiplies: about 12 % of a full fine-tuning step (docs/performance.md, "Dropout masks made in
     * Java"; DropoutTest pins the masks to the draw rule). Elsewhere, PyTorch's dropout.
     */
    public static NDArray dropout(NDArray x, double p, boolean training) {
        if (!training || p <= 0) {
            return x;
        }
        if (p >= 1 || x.getDevice().isGpu() || x.getDataType() != DataType.FLOAT32) {
            return x.getNDArrayInternal().dropout(x, (float) p, true).singletonOrThrow();
        }
        NDArray mask = dropoutMask(x.getManager(), x.getShape(), p);
        if (mask == null) {
            return x.getNDArrayInternal().dropout(x, (float) p, true).singletonOrThrow();
        }
        return x.mul(mask).mul(scalar(x, 1 / (1 - p)));
    }

    /**
     * The keep mask {@link #dropout} would draw next for an input of {@code shape}: uint8, 1 with
     * probability 1 - p, from this thread's dropout random numbers, in memory PyTorch allocated. The
     * hand-written layers (models.FusedBertLayers) draw theirs here in the order the autograd layers
     * would, so both paths drop the same elements. Null when PyTorch gives no direct view of the memory.
     */
    public static NDArray dropoutMask(NDManager manager, Shape shape, double p) {
        NDArray mask = manager.create(shape, DataType.UINT8); // (...), PyTorch-owned, uninitialised
        java.nio.ByteBuffer bytes = mask.toByteBuffer(true);
        if (!bytes.isDirect()) {
            mask.close();
            return null;
        }
        fillMask(bytes, p, DROPOUT_RANDOM.get());
        return mask;
    }

    /** {@link #fillMask(java.nio.ByteBuffer, double, SplittableRandom)}'s bytes from this thread's stream, in C where it compiled. */
    static void fillMask(java.nio.ByteBuffer out, double p, MaskStream random) {
        if (FusedKernels.available()) {
            int drop = (int) Math.ceil(p * (1 << 24));
            random.seed += FusedKernels.dropoutMask(out, random.seed, MaskStream.GAMMA, drop) * MaskStream.GAMMA;
            return;
        }
        fillMask(out, p, random::nextLong);
    }

    /** Each byte 1 with probability 1 - p, else 0: two 24-bit uniform draws per random long. */
    static void fillMask(java.nio.ByteBuffer out, double p, SplittableRandom random) {
        fillMask(out, p, random::nextLong);
    }

    private static void fillMask(java.nio.ByteBuffer out, double p, java.util.function.LongSupplier random) {
        int n = out.capacity();
        int drop = (int) Math.ceil(p * (1 << 24)); // u = r / 2^24 < p  <=>  r < drop
        // Bytes are made in a heap chunk without branches and copied in bulk: twice as fast as a put per
        // byte (docs/performance.md), the same bytes (DropoutTest.masksFollowTheDrawRuleByteForByte).
        // (r - drop) >>> 31 is 1 exactly when r < drop.
        byte[] chunk = new byte[Math.min(8192, n & ~1)];
        int i = 0;
        while (i + 1 < n) {
            int len = Math.min(chunk.length, (n - i) & ~1);
            for (int j = 0; j < len; j += 2) {
                long bits = random.getAsLong();
                chunk[j] = (byte) ((((int) (bits & 0xFFFFFF) - drop) >>> 31) ^ 1);
                chunk[j + 1] = (byte) ((((int) ((bits >>> 24) & 0xFFFFFF) - drop) >>> 31) ^ 1);
            }
            out.put(i, chunk, 0, len);
            i += len;
        }
        if (i < n) {
            out.put(i, (int) (random.getAsLong() & 0xFFFFFF) < drop ? (byte) 0 : (byte) 1);
        }
    }

    /**
     * The activation named by a config's {@code hidden_act} / {@code activation}, as transformers'
     * ACT2FN defines it: "gelu" is the exact erf form, "gelu_new" and "gelu_pytorch_tanh" the tanh
     * approximation.
     */
    public static NDArray activation(String name, NDArray x) {
        return switch (name) {
            case "gelu" -> Activation.gelu(x);
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> geluTanh(x);
            case "relu" -> Activation.relu(x);
            case "tanh" -> x.tanh();
            case "silu", "swish" -> x.mul(x.getNDArrayInternal().sigmoid());
            default -> throw new IllegalArgumentException("unsupported activation " + name);
        };
    }

    /**
     * The position-wise feed-forward block without its dropout: out(act(in(x))), x (..., H) -> (..., H).
     * Under {@link Precision#BF16} it is one TorchScript call that keeps the (..., I) inner activations in
     * bf16 (both products and the activation), unless a LoRA adapter sits on either layer.
     */
    public static NDArray feedForward(Linear in, String act, Linear out, NDArray x, boolean training) {
        if (Precision.current() == Precision.BF16 && in.adapter() == null && out.adapter() == null && in.bias != null
                && out.bias != null && ScriptedKernels.fusesFeedForward(act)) {
            return ScriptedKernels.get().feedForwardBf16(x, in.weight.array(), in.bias.array(), act, out.weight.array(),
                    out.bias.array(), training); // (..., H)
        }
        return out.forward(activation(act, in.forward(x, training)), training); // (..., H)
    }

    public static final java.util.Set<String> ACTIVATIONS =
            java.util.Set.of("gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "tanh", "silu", "swish");

    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    private static NDArray geluTanh(NDArray x) {
        NDArray cube = x.mul(x).mul(x); // x^3
        NDArray inner = cube.mul(scalar(x, 0.044715)).add(x).mul(scalar(x, Math.sqrt(2 / Math.PI)));
        return inner.tanh().add(scalar(x, 1)).mul(x).mul(scalar(x, 0.5));
    }
}
