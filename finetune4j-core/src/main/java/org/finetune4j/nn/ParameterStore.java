package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.DType;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.TensorSource;

/**
 * Every parameter of a model by its Hugging Face state-dict key, and the long-lived native memory that
 * holds them. Modules register their parameters while the model is built; {@link #load} then fills
 * them from a checkpoint (checking every name and shape) and {@link #initializeMissing} draws the rest.
 */
public final class ParameterStore implements AutoCloseable {
    private final NDManager manager;
    private final Map<String, Param> params = new LinkedHashMap<>();

    public ParameterStore(NDManager parent) {
        this.manager = parent.newSubManager();
    }

    /** The manager that owns the parameters. Per-step arrays must never be attached to it. */
    public NDManager manager() {
        return manager;
    }

    public Param register(String name, Shape shape, Init init) {
        if (params.containsKey(name)) {
            throw new IllegalStateException("parameter " + name + " registered twice");
        }
        Param p = new Param(name, shape, init);
        params.put(name, p);
        return p;
    }

    /** Removes parameters (for example a LoRA adapter being unloaded) and frees their memory. */
    public void unregister(Collection<Param> toRemove) {
        for (Param p : toRemove) {
            if (params.remove(p.name()) != null && p.hasArray()) {
                p.setArray(null);
            }
        }
    }

    public Map<String, Param> params() {
        return Collections.unmodifiableMap(params);
    }

    public Param get(String name) {
        Param p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return p;
    }

    public List<Param> trainable() {
        return params.values().stream().filter(Param::trainable).toList();
    }

    public long count() {
        return params.values().stream().mapToLong(Param::numel).sum();
    }

    public long trainableCount() {
        return trainable().stream().mapToLong(Param::numel).sum();
    }

    /** Marks exactly the parameters whose name matches as trainable. */
    public void setTrainable(Predicate<String> which) {
        params.values().forEach(p -> p.setTrainable(which.test(p.name())));
    }

    /**
     * Loads parameters from {@code source}. {@code fileKey} maps a model key to the checkpoint key that
     * holds it (prefix and legacy-name handling live with the architecture). Shapes must match exactly.
     * Missing keys are left unmaterialised for {@link #initializeMissing}.
     */
    public LoadReport load(TensorSource source, java.util.function.Function<String, String> fileKey, LoadOptions options) {
        Set<String> used = new HashSet<>();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        Map<Param, HostTensor> matched = new LinkedHashMap<>();
        for (Param p : params.values()) {
            String key = fileKey.apply(p.name());
            if (key == null || !source.names().contains(key)) {
                missing.add(p.name());
                continue;
            }
            used.add(key);
            HostTensor t = source.get(key);
            if (!Arrays.equals(t.shape(), p.shape().getShape())) {
                mismatched.add("\"" + key + "\": checkpoint shape " + Arrays.toString(t.shape()) + ", model shape "
                        + Arrays.toString(p.shape().getShape()));
                continue;
            }
            if (!t.dtype().isFloatingPoint()) {
                throw new CheckpointException(source.describe() + ": tensor \"" + key + "\" has dtype " + t.dtype()
                        + " but a floating-point weight was expected. The checkpoint is not a model of this architecture.");
            }
            matched.put(p, t);
        }
        if (!mismatched.isEmpty()) {
            throw new CheckpointException(source.describe() + ": size mismatch between checkpoint and model for "
                    + String.join("; ", mismatched)
                    + ". The config.json does not describe these weights: check hidden_size, vocab_size, num_labels.");
        }
        List<String> notAllowed = missing.stream().filter(k -> !options.mayBeNew(k)).toList();
        if (!notAllowed.isEmpty()) {
            throw new CheckpointException(source.describe() + ": the checkpoint lacks " + notAllowed.size()
                    + " weights the model needs, for example " + notAllowed.subList(0, Math.min(5, notAllowed.size()))
                    + ". It is not a checkpoint of this architecture, or it is incomplete.");
        }
        List<String> unexpected = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        for (String k : source.names()) {
            if (!used.contains(k)) {
                (options.ignoredUnexpected().test(k) ? ignored : unexpected).add(k);
            }
        }
        if (options.strict() && !unexpected.isEmpty()) {
            throw new CheckpointException(source.describe() + ": the checkpoint has " + unexpected.size()
                    + " weights this model does not use, for example "
                    + unexpected.subList(0, Math.min(5, unexpected.size()))
                    + ". Check model_type and architectures in config.json, or load non-strictly.");
        }
        matched.forEach((p, t) -> p.setArray(toNDArray(t, p.shape())));
        return new LoadReport(source.describe(), missing, unexpected, ignored);
    }

    /** Draws every parameter that has no value yet from its {@link Init}, seeded by {@code seed}. */
    public void initializeMissing(long seed) {
        for (Param p : params.values()) {
            if (!p.hasArray()) {
                float[] v = p.init().values(Math.toIntExact(p.numel()), seed, p.name());
                p.setArray(Aligned.floats(manager, v, p.shape()));
            }
        }
    }

    /** Replaces one parameter's value with a copy of {@code value} (shapes must match). */
    public void set(String name, HostTensor value) {
        Param p = get(name);
        if (!Arrays.equals(value.shape(), p.shape().getShape())) {
            throw new IllegalArgumentException("shape mismatch for " + name + ": " + Arrays.toString(value.shape())
                    + " vs " + p.shape());
        }
        boolean grad = p.hasArray() && p.array().hasGradient();
        p.setArray(toNDArray(value, p.shape()));
        if (grad) {
            p.array().setRequiresGradient(true);
        }
    }

    private NDArray toNDArray(HostTensor t, Shape shape) {
        return Aligned.floats(manager, t.toFloatBuffer(), shape); // PyTorch-owned memory (see Aligned)
    }

    /** A copy of every parameter (or those matching {@code which}) in heap memory, by name. */
    public Map<String, HostTensor> stateDict(Predicate<String> which) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Param p : params.values()) {
            if (which.test(p.name())) {
                out.put(p.name(), toHost(p.array()));
            }
        }
        return out;
    }

    /**
     * Every parameter (or those matching {@code which}) as zero-copy views of native memory, for writing
     * a checkpoint at once: no heap copies of the whole model (they made the JVM heap, and so the resident
     * memory, grow by several times the model's size at each save). Valid only until a parameter changes.
     */
    public Map<String, HostTensor> stateDictViews(Predicate<String> which) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Param p : params.values()) {
            if (which.test(p.name())) {
                out.put(p.name(), view(p.array()));
            }
        }
        return out;
    }

    /** A heap copy of a float32 array (one copy: DJL's toFloatArray makes two). */
    public static HostTensor toHost(NDArray a) {
        ByteBuffer src = view(a).bytes();
        ByteBuffer copy = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(src).flip();
        return new HostTensor(DType.F32, a.getShape().getShape(), copy);
    }

    /**
     * A float32 array's native memory seen as a HostTensor, without copying (PyTorch's CPU tensors are
     * little-endian on the platforms DJL ships). Valid while the array is open and unchanged.
     */
    public static HostTensor view(NDArray a) {
        if (a.getDataType() != DataType.FLOAT32) {
            throw new IllegalStateException("expected float32, found " + a.getDataType());
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("checkpoints are little-endian; this platform is " + ByteOrder.nativeOrder());
        }
        return new HostTensor(DType.F32, a.getShape().getShape(), a.toByteBuffer(true));
    }

    @Override
    public void close() {
        manager.close();
    }
}
