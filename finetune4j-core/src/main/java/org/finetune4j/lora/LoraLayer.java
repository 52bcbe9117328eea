package org.finetune4j.lora;

import static org.finetune4j.nn.Functional.scalar;
import static org.finetune4j.nn.Functional.dropout;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.finetune4j.nn.Adapter;
import org.finetune4j.nn.Init;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.Param;
import org.finetune4j.nn.ParameterStore;

/**
 * The LoRA branch of one linear layer (Hu et al. 2021; PEFT's lora.Linear): the layer computes
 * base(x) + B(A(dropout(x))) * scale. A is Kaiming-uniform and B zero, so a fresh adapter leaves the
 * model's output unchanged. Parameters: {@code <layer>.lora_A.weight} (r, in) and
 * {@code <layer>.lora_B.weight} (out, r).
 */
public final class LoraLayer implements Adapter {
    private final Linear base;
    final Param loraA; // (r, in)
    final Param loraB; // (out, r)
    private final double scale;
    private final double dropoutP;
    private boolean merged;

    LoraLayer(ParameterStore store, Linear base, LoraConfig c) {
        this.base = base;
        this.loraA = store.register(base.name() + ".lora_A.weight", new Shape(c.r(), base.inFeatures()),
                Init.kaimingUniformSqrt5(base.inFeatures()));
        this.loraB = store.register(base.name() + ".lora_B.weight", new Shape(base.outFeatures(), c.r()), Init.ZEROS);
        this.scale = c.scale();
        this.dropoutP = c.loraDropout();
    }

    /** x (..., in), base (..., out) -> (..., out). */
    @Override
    public NDArray apply(NDArray x, NDArray baseOut, boolean training) {
        if (merged) {
            return baseOut; // the update is already in the base weight
        }
        NDArray h = dropout(x, dropoutP, training); // (..., in)
        NDArray down = h.getNDArrayInternal().linear(h, loraA.array(), null).singletonOrThrow(); // (..., r)
        NDArray up = down.getNDArrayInternal().linear(down, loraB.array(), null).singletonOrThrow(); // (..., out)
        return baseOut.add(up.mul(scalar(up, scale))); // (..., out)
    }

    public Linear base() {
        return base;
    }

    public boolean merged() {
        return merged;
    }

    /** W += scale B A (PEFT merge). */
    void merge(NDManager scratch) {
        if (!merged) {
            base.weight.array().addi(delta(scratch));
            merged = true;
        }
    }

    /** W -= scale B A (PEFT unmerge). */
    void unmerge(NDManager scratch) {
        if (merged) {
            base.weight.array().subi(delta(scratch));
            merged = false;
        }
    }

    /** The update this branch adds to the base weight: scale * B A, (out, in), in the scratch scope. */
    public NDArray delta(NDManager scratch) {
        NDArray b = loraB.array().duplicate(); // copy first: results attach to their first operand's manager
        b.attach(scratch);
        return b.matMul(loraA.array()).muli(scale); // (out, in)
    }
}
