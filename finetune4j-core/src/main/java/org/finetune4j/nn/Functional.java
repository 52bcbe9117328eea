package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/** Stateless operations shared by the architectures. */
public final class Functional {
    private Functional() {
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
        NDArray inner = x.pow(3).muli(0.044715).addi(x).muli(Math.sqrt(2 / Math.PI));
        return inner.tanh().addi(1).muli(x).muli(0.5);
    }
}
