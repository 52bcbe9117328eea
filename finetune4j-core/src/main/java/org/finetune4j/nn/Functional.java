package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
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

    /** Dropout with probability p, active only while training (torch.nn.functional.dropout). */
    public static NDArray dropout(NDArray x, double p, boolean training) {
        if (!training || p <= 0) {
            return x;
        }
        return x.getNDArrayInternal().dropout(x, (float) p, true).singletonOrThrow();
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

    public static final java.util.Set<String> ACTIVATIONS =
            java.util.Set.of("gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "tanh", "silu", "swish");

    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    private static NDArray geluTanh(NDArray x) {
        NDArray cube = x.mul(x).mul(x); // x^3
        NDArray inner = cube.mul(scalar(x, 0.044715)).add(x).mul(scalar(x, Math.sqrt(2 / Math.PI)));
        return inner.tanh().add(scalar(x, 1)).mul(x).mul(scalar(x, 0.5));
    }
}
