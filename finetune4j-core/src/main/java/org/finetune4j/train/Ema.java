package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.nn.Aligned;
import org.finetune4j.nn.Param;
import org.finetune4j.nn.ParameterStore;

/**
 * An exponential moving average of the trainable weights (Polyak averaging, as timm's ModelEmaV2): after
 * each optimizer step {@code ema = d ema + (1 - d) w}, computed in place as {@code w + d (ema - w)}, from
 * {@code ema = w} at the start. The decay is constant from the first step: timm's optional warmup of d is
 * not applied. One extra copy of the trainable weights.
 *
 * <p>The run evaluates and saves the average: {@link #useAverage} puts it in the model (the weights are
 * exchanged, not copied), {@link #useTraining} puts the training weights back. A checkpoint's model is
 * therefore the average, the model the run evaluated there and that load_best_model_at_end restores;
 * beside it {@value #FILE} holds the training weights, so that a resumed run continues exactly. With decay
 * 0 (the default) it holds nothing and does nothing.
 */
final class Ema implements AutoCloseable {
    /** In a checkpoint written with EMA: the weights the optimizer trains (the model files hold the average). */
    static final String FILE = "training_weights.safetensors";

    private final double decay;
    private final List<Param> params;
    private final NDManager manager;
    private final NDArray[] held; // the average while training; the training weights while the average is in use
    private boolean averageInUse;

    Ema(List<Param> trainable, double decay, NDManager parent) {
        this.decay = decay;
        this.params = decay == 0 ? List.of() : List.copyOf(trainable);
        this.manager = parent.newSubManager();
        this.held = new NDArray[params.size()];
        for (int i = 0; i < held.length; i++) {
            held[i] = params.get(i).array().duplicate();
            held[i].attach(manager);
        }
    }

    /** Folds the weights of the step just taken into the average. */
    void update() {
        requireTraining("update");
        for (int i = 0; i < held.length; i++) {
            NDArray w = params.get(i).array();
            held[i].subi(w).muli(decay).addi(w);
        }
    }

    /** Puts the average in the model (for evaluation and checkpoints); nothing when it already is. */
    void useAverage() {
        if (!averageInUse) {
            exchange();
        }
    }

    /** Puts the training weights back in the model; nothing when they are in it. */
    void useTraining() {
        if (averageInUse) {
            exchange();
        }
    }

    private void exchange() {
        for (int i = 0; i < held.length; i++) {
            held[i] = params.get(i).exchange(held[i]);
        }
        averageInUse = !averageInUse;
    }

    /** Writes {@value #FILE} into a checkpoint directory being written with the average in use; nothing when off. */
    void save(Path dir) {
        if (held.length == 0) {
            return;
        }
        if (!averageInUse) {
            throw new IllegalStateException("a checkpoint is written with the averaged weights in the model");
        }
        Map<String, HostTensor> views = new LinkedHashMap<>();
        for (int i = 0; i < held.length; i++) {
            views.put(params.get(i).name(), ParameterStore.view(held[i]));
        }
        SafeTensors.write(dir.resolve(FILE), views, Map.of("ema_decay", Double.toString(decay)));
    }

    /**
     * After the checkpoint's model (the average) was loaded into the model: takes it as the average and
     * loads the training weights of {@value #FILE} into the model.
     */
    void restore(Path dir) {
        if (held.length == 0) {
            return;
        }
        requireTraining("restore");
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir + " has no " + FILE + ": it was written without --ema-decay, so it holds"
                    + " no average to continue. Resume with the run's own settings (its run_config.json).");
        }
        Map<String, HostTensor> training = SafeTensors.readFile(file);
        for (int i = 0; i < held.length; i++) {
            Param p = params.get(i);
            HostTensor t = training.get(p.name());
            if (t == null) {
                throw new CheckpointException(file + " lacks " + p.name() + "; it was written for another model or strategy");
            }
            held[i].close();
            NDArray w = Aligned.floats(manager, t.toFloatBuffer(), p.shape());
            held[i] = p.exchange(w); // the model's weights (the average) become the held average
        }
    }

    private void requireTraining(String what) {
        if (averageInUse) {
            throw new IllegalStateException("EMA " + what + " with the averaged weights in the model");
        }
    }

    /** Frees what it holds: the average, or the training weights when the average is in use (the end of a run). */
    @Override
    public void close() {
        manager.close();
    }
}
