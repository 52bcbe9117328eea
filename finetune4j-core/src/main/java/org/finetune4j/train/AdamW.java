package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToDoubleFunction;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.nn.Aligned;
import org.finetune4j.nn.Param;
import org.finetune4j.nn.ParameterStore;
import org.finetune4j.nn.RowGradient;

/**
 * AdamW (Loshchilov &amp; Hutter 2019) with torch.optim.AdamW's update, written in place so a step
 * allocates no parameter-sized temporaries (DJL-NOTES.md: per-step temporaries caused malloc churn
 * and a 2.5x slower optimizer). For each trainable parameter p with gradient g, at step t:
 *
 * <pre>
 *   p  = p (1 - lr wd)                          decoupled weight decay (0 for biases and LayerNorm)
 *   m  = b1 m + (1 - b1) g
 *   v  = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 *
 * Each parameter may have its own learning rate, {@code lr} times a fixed factor (torch's parameter
 * groups; {@link LayerwiseLr} gives them): both lr above, in the decay and in the step, are then that
 * parameter's. A factor of 1 leaves the arithmetic exactly as without factors.
 *
 * <p>Global-norm clipping (torch.nn.utils.clip_grad_norm_) is folded in as a scale on g. Only trainable
 * parameters get optimizer state; a parameter without a gradient is skipped, as torch.optim skips
 * {@code grad is None}. After the update every gradient is dropped ({@link Param#dropGradient},
 * PyTorch's {@code zero_grad(set_to_none=True)}), so the next backward pass hands its gradients over
 * instead of adding them to zeroed buffers.
 *
 * <p>The update runs where the parameters are: {@link CpuUpdate}, one pass in Java over the tensors'
 * memory, on the CPU; {@link TensorOpUpdate}, tensor ops in place, on an accelerator (a Java view of
 * GPU memory would be a copy). On the CPU an embedding table keeps its moments row by row
 * ({@link TableMoments}): see {@link CpuUpdate}.
 */
public final class AdamW implements AutoCloseable {

    /** Hyper-parameters with transformers' TrainingArguments defaults. */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        public static Settings defaults(double weightDecay) {
            return new Settings(0.9, 0.999, 1e-8, weightDecay);
        }
    }

    /** The update of every parameter, for one kind of device. */
    sealed interface Update extends AutoCloseable permits CpuUpdate, TensorOpUpdate {
        /** Whether this update keeps {@code p}'s moments row by row ({@link TableMoments}) rather than dense. */
        boolean rowMoments(Param p);

        /** Updates every parameter that has a gradient, then drops the gradients. */
        void apply(List<State> states, Step step, NDManager scratch);

        @Override
        void close();
    }

    /** A parameter's optimizer state: dense moments {@code m} and {@code v}, or an embedding table's {@code rows}. */
    static final class State {
        final Param param;
        final boolean decays;
        final double lrScale; // this parameter's learning rate over the step's
        NDArray m; // (shape of the parameter), or null with rows
        NDArray v;
        final TableMoments rows;

        State(Param param, boolean decays, double lrScale, NDArray m, NDArray v, TableMoments rows) {
            this.param = param;
            this.decays = decays;
            this.lrScale = lrScale;
            this.m = m;
            this.v = v;
            this.rows = rows;
        }
    }

    /**
     * The coefficients of step t, at the base learning rate (a parameter's factor multiplies {@code lr} and
     * {@code stepSize}). {@code lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)} is computed as
     * {@code stepSize * m / (sqrt(v) + epsHat)} with {@code stepSize = lr sqrt(bc2) / bc1} and
     * {@code epsHat = eps sqrt(bc2)}: one pass fewer.
     */
    record Step(double lr, double weightDecay, double beta1, double beta2, double clip, double stepSize, double epsHat) {
    }

    private final List<Param> params;
    private final List<State> states = new ArrayList<>();
    private final NDManager manager;
    private final Settings s;
    private final Update update;
    /** Dense copies of table moments handed out by {@link #stateViews}, freed at the next step. */
    private NDManager views;
    private long step;

    /**
     * @param params the trainable parameters
     * @param decayed which of them get weight decay (transformers: every weight except biases and
     *     LayerNorm weights)
     */
    public AdamW(List<Param> params, Predicate<String> decayed, Settings settings, NDManager parent) {
        this(params, decayed, name -> 1.0, settings, parent);
    }

    /**
     * @param lrScale each parameter's learning rate over the step's, by name (torch's parameter groups)
     */
    public AdamW(List<Param> params, Predicate<String> decayed, ToDoubleFunction<String> lrScale, Settings settings,
            NDManager parent) {
        this(params, decayed, lrScale, settings, parent, onCpu(params) ? new CpuUpdate() : new TensorOpUpdate());
    }

    /** With the given update; tests run {@link TensorOpUpdate} on CPU arrays to check it against {@link CpuUpdate}. */
    AdamW(List<Param> params, Predicate<String> decayed, ToDoubleFunction<String> lrScale, Settings settings,
            NDManager parent, Update update) {
        this.params = List.copyOf(params);
        this.s = settings;
        this.manager = parent.newSubManager();
        this.update = update;
        for (Param p : params) {
            boolean decays = decayed.test(p.name());
            double scale = lrScale.applyAsDouble(p.name());
            if (!(scale > 0) || !Double.isFinite(scale)) {
                throw new IllegalArgumentException("the learning-rate factor of " + p.name() + " is " + scale
                        + "; it must be a positive number");
            }
            if (update.rowMoments(p)) {
                int rows = Math.toIntExact(p.shape().get(0));
                states.add(new State(p, decays, scale, null, null, new TableMoments(rows, Math.toIntExact(p.numel() / rows))));
            } else {
                states.add(new State(p, decays, scale, manager.zeros(p.shape(), DataType.FLOAT32),
                        manager.zeros(p.shape(), DataType.FLOAT32), null));
            }
        }
    }

    private static boolean onCpu(List<Param> params) {
        return params.stream().allMatch(p -> !p.array().getDevice().isGpu() && p.array().getDataType() == DataType.FLOAT32);
    }

    /**
     * transformers' rule (Trainer.get_decay_parameter_names): no decay for LayerNorm weights
     * (get_parameter_names minus ALL_LAYERNORM_LAYERS) and for every name containing "bias", which also
     * exempts MPNet's encoder.relative_attention_bias.weight.
     */
    public static boolean decaysByDefault(String name) {
        return !name.contains("bias") && !name.contains("LayerNorm") && !name.contains("layer_norm");
    }

    /**
     * Global L2 norm of all gradients, as clip_grad_norm_ computes it: per-parameter norms by PyTorch,
     * gathered in the scratch manager, and an embedding table's rows summed in double. (Summing the squares
     * in Java over the gradients' memory, split across the cores, measured twice as slow: 7.5–7.9 against
     * 3.4–4.2 ms a step for MiniLM.)
     */
    public double gradNorm(NDManager scratch) {
        double sum = 0;
        for (Param p : params) {
            RowGradient rows = p.rowGradient();
            if (rows != null) {
                sum += rows.sumOfSquares();
            }
            NDArray g = gradient(p, scratch);
            if (g == null) {
                continue;
            }
            double n = g.norm().getFloat();
            sum += n * n;
        }
        return Math.sqrt(sum);
    }

    /**
     * One update. {@code clipCoef} scales every gradient first (1 for none; clip_grad_norm_'s
     * max_norm / (total_norm + 1e-6) when that is below 1). Gradients are dropped afterwards.
     */
    public void step(double lr, double clipCoef, NDManager scratch) {
        closeViews();
        step++;
        double bc1 = 1 - Math.pow(s.beta1(), step);
        double bc2 = 1 - Math.pow(s.beta2(), step);
        update.apply(states, new Step(lr, s.weightDecay(), s.beta1(), s.beta2(), clipCoef,
                lr * Math.sqrt(bc2) / bc1, s.eps() * Math.sqrt(bc2)), scratch);
    }

    /** Drops every gradient without updating (after a skipped step). */
    public void zeroGrad() {
        for (Param p : params) {
            p.dropGradient();
            if (p.rowGradient() != null) {
                p.rowGradient().clear();
            }
        }
    }

    /** The parameter's PyTorch gradient, or null when it has none (never reached by a backward pass). */
    static NDArray gradient(Param p, NDManager scratch) {
        if (p.hasHandGradient()) {
            // A view in the scratch manager, so what is computed from it goes there too; the gradient
            // itself stays the parameter's, freed by dropGradient.
            NDArray g = p.gradient();
            NDArray view = g.reshape(g.getShape());
            view.attach(scratch);
            return view;
        }
        // Not w.getGradient(): DJL returns a new zero array for a parameter without a gradient (a table
        // updated row by row has none). The handle goes to the per-step scratch manager so it is freed
        // with the step (DJL-NOTES.md, handle leaks).
        NDArray g = p.gradient();
        if (g != null) {
            g.attach(scratch);
        }
        return g;
    }

    /**
     * The parameter's whole gradient as one dense array: its PyTorch gradient with its row gradient added
     * (and cleared), a new array in {@code scratch} when it had only rows; null when it has neither.
     */
    static NDArray denseGradient(Param p, NDManager scratch) {
        NDArray g = gradient(p, scratch);
        RowGradient rows = p.rowGradient();
        if (rows == null || rows.count() == 0) {
            return g;
        }
        NDArray dense = Aligned.floats(scratch, rows.toDense(), p.shape());
        rows.clear();
        return g == null ? dense : g.addi(dense);
    }

    /** The row-by-row moments of an embedding table, or null when the parameter's moments are dense. */
    TableMoments tableMoments(Param p) {
        return states.get(params.indexOf(p)).rows;
    }

    public long stepCount() {
        return step;
    }

    public List<Param> params() {
        return params;
    }

    /** A copy of the optimizer state: {@code exp_avg.<param>} and {@code exp_avg_sq.<param>}, dense. */
    public Map<String, HostTensor> state() {
        try (NDManager tmp = manager.newSubManager()) {
            return state(ParameterStore::toHost, tmp);
        }
    }

    /**
     * The optimizer state as views, to write a checkpoint at once (valid until the next step or close):
     * zero-copy for dense parameters; embedding tables' moments are laid out densely for it.
     */
    public Map<String, HostTensor> stateViews() {
        closeViews();
        views = manager.newSubManager();
        return state(ParameterStore::view, views);
    }

    private Map<String, HostTensor> state(Function<NDArray, HostTensor> host, NDManager dense) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (State st : states) {
            NDArray[] mv = st.rows != null ? st.rows.toDense(dense) : new NDArray[] {st.m, st.v};
            out.put("exp_avg." + st.param.name(), host.apply(mv[0]));
            out.put("exp_avg_sq." + st.param.name(), host.apply(mv[1]));
        }
        return out;
    }

    private void closeViews() {
        if (views != null) {
            views.close();
            views = null;
        }
    }

    /** Restores {@link #state()} and the step count of a checkpoint. */
    public void restore(Map<String, HostTensor> state, long stepCount) {
        List<String> missing = new ArrayList<>();
        for (State st : states) {
            Param p = st.param;
            HostTensor m = state.get("exp_avg." + p.name());
            HostTensor v = state.get("exp_avg_sq." + p.name());
            if (m == null || v == null) {
                missing.add(p.name());
                continue;
            }
            checkShape(p, m);
            checkShape(p, v);
            if (st.rows != null) {
                st.rows.load(m.toFloatBuffer(), v.toFloatBuffer());
                continue;
            }
            st.m.close();
            st.m = Aligned.floats(manager, m.toFloatBuffer(), p.shape());
            st.v.close();
            st.v = Aligned.floats(manager, v.toFloatBuffer(), p.shape());
        }
        if (!missing.isEmpty()) {
            throw new CheckpointException("the optimizer state lacks the parameters " + missing
                    + ": it was saved with another strategy or model. Resume with the same settings as the interrupted run.");
        }
        this.step = stepCount;
    }

    private static void checkShape(Param p, HostTensor t) {
        if (!Arrays.equals(t.shape(), p.shape().getShape())) {
            throw new CheckpointException("optimizer state for " + p.name() + " has shape "
                    + Arrays.toString(t.shape()) + ", the parameter " + p.shape());
        }
    }

    /** Frees the optimizer state; closing twice is harmless. */
    @Override
    public void close() {
        update.close();
        closeViews();
        states.forEach(st -> {
            if (st.rows != null) {
                st.rows.close();
            }
        });
        states.clear();
        manager.close();
    }
}
