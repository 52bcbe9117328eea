package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * One named parameter. The name is the Hugging Face state-dict key (for example
 * {@code bert.encoder.layer.0.attention.self.query.weight}); the array lives in the owning
 * {@link ParameterStore}'s long-lived manager and is replaced, not mutated, when weights are loaded.
 */
public final class Param {
    private final String name;
    private final Shape shape;
    private final Init init;
    private NDArray array;
    private boolean trainable = true;
    private RowGradient rowGradient;
    private NDArray handGradient; // from a hand-written backward (StepGradients.HandBackward), or null
    private boolean embeddingTable;

    Param(String name, Shape shape, Init init) {
        this.name = name;
        this.shape = shape;
        this.init = init;
    }

    public String name() {
        return name;
    }

    public Shape shape() {
        return shape;
    }

    public Init init() {
        return init;
    }

    /** The current value; throws if the store has not been materialised yet. */
    public NDArray array() {
        if (array == null) {
            throw new IllegalStateException("parameter " + name + " has no value yet: load or initialise the model first");
        }
        return array;
    }

    public boolean hasArray() {
        return array != null;
    }

    void setArray(NDArray a) {
        if (array != null && array != a) {
            array.close();
        }
        array = a;
        if (rowGradient != null) {
            rowGradient.clear(); // a gradient of the old values
        }
    }

    /**
     * Puts {@code replacement} (same shape) in place of the value and hands the replaced array back, open:
     * each array moves to the other's manager, so the caller now owns the one returned. Whether the value
     * takes gradients carries over. For swapping one set of weights for another without copying them
     * (org.finetune4j.train.Ema).
     */
    public NDArray exchange(NDArray replacement) {
        NDArray old = array();
        if (!replacement.getShape().equals(shape)) {
            throw new IllegalArgumentException("cannot put an array of shape " + replacement.getShape() + " in " + this);
        }
        var ownerOfOld = old.getManager();
        old.attach(replacement.getManager());
        replacement.attach(ownerOfOld);
        replacement.setRequiresGradient(old.hasGradient());
        array = replacement;
        return old;
    }

    /**
     * Drops the gradient, as PyTorch's {@code zero_grad(set_to_none=True)} does: the array becomes a new
     * leaf over the same memory, with no gradient, and the old handle (and with it the gradient) is freed.
     * The next backward pass then hands its gradient to the parameter as it is, instead of adding it to a
     * zeroed buffer, and no gradient-sized buffer is held between steps. Nothing happens when the array has
     * no gradient.
     */
    public void dropGradient() {
        if (handGradient != null) {
            handGradient.close();
            handGradient = null;
        }
        if (!(array instanceof PtNDArray old) || !old.hasGradient()) {
            return;
        }
        PtNDArray grad = JniUtils.getGradient(old);
        if (grad == null) {
            return;
        }
        grad.close(); // only the handle: the gradient itself belongs to the old leaf until it is closed
        PtNDArray fresh = JniUtils.detachGradient(old); // same memory, no autograd history, no gradient
        fresh.setRequiresGradient(true);
        old.close();
        array = fresh;
    }

    /**
     * Adds {@code g} (the parameter's shape) to the gradient a hand-written backward pass gives this
     * parameter, as autograd's AccumulateGrad adds into {@code .grad}: the first one is taken over
     * (moved to the parameter's manager), later ones (accumulation micro-batches) are added to it.
     */
    public void accumulateGradient(NDArray g) {
        if (!g.getShape().equals(shape)) {
            throw new IllegalArgumentException("a gradient of shape " + g.getShape() + " for " + this);
        }
        if (handGradient == null) {
            g.attach(array().getManager());
            handGradient = g;
        } else {
            handGradient.addi(g);
            g.close();
        }
    }

    /**
     * The parameter's gradient: the one a hand-written backward gave it, else PyTorch's {@code .grad}
     * (a new handle, which the caller attaches and frees), else null. An embedding table's row gradient
     * is separate ({@link #rowGradient}).
     */
    public NDArray gradient() {
        if (handGradient != null) {
            return handGradient;
        }
        if (!(array instanceof PtNDArray w) || !w.hasGradient()) {
            return null;
        }
        return JniUtils.getGradient(w);
    }

    /** Whether {@link #gradient} is the hand-written backward's (owned by the parameter) rather than a new handle. */
    public boolean hasHandGradient() {
        return handGradient != null;
    }

    public boolean trainable() {
        return trainable;
    }

    void setTrainable(boolean trainable) {
        this.trainable = trainable;
    }

    /**
     * An embedding table's gradient kept row by row ({@link StepGradients}), or null when none was
     * accumulated that way. The optimizer consumes and clears it; PyTorch's own gradient of the array
     * stays unset for such a table.
     */
    public RowGradient rowGradient() {
        return rowGradient;
    }

    /** Whether this is an embedding table ({@link Embedding}'s weight), whose gradient can come row by row. */
    public boolean embeddingTable() {
        return embeddingTable;
    }

    void markEmbeddingTable() {
        embeddingTable = true;
    }

    /** {@link #rowGradient}, created (empty) if there was none. */
    public RowGradient openRowGradient() {
        if (rowGradient == null) {
            rowGradient = new RowGradient(Math.toIntExact(shape.get(0)), Math.toIntExact(shape.size() / shape.get(0)));
        }
        return rowGradient;
    }

    public long numel() {
        return shape.size();
    }

    @Override
    public String toString() {
        return name + shape;
    }
}
