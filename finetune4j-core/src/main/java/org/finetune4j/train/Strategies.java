package org.finetune4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.finetune4j.lora.Lora;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;

/**
 * Which parameters train under each strategy. Parameters the checkpoint did not provide (a new head,
 * or BERT's pooler missing from an export) always train: freezing a random layer would only hurt.
 */
public final class Strategies {
    private Strategies() {
    }

    /** What trains after {@link #prepare}: the parameters, and the injected adapters for LoRA (else null). */
    public record Prepared(List<Param> trainable, Lora lora) {
    }

    /**
     * Applies the strategy of {@code cfg} to a model that was just loaded, after re-initialising its top
     * layers when {@code reinit_top_layers} asks ({@link ReinitTopLayers}): LoRA adapters injected (seeded
     * with {@code cfg.seed()}; a pooler the checkpoint lacked trains and is saved with the head), or the
     * parameters that train under full, frozen or partial marked.
     *
     * @param lora the LoRA settings for the LORA strategy, else ignored
     * @param newlyInitialized names of parameters that were not in the checkpoint
     */
    public static Prepared prepare(TransformerModel model, TrainingConfig cfg, LoraConfig lora, Set<String> newlyInitialized) {
        ReinitTopLayers.apply(model, cfg); // before anything trains (full and partial only)
        if (cfg.strategy() != Strategy.LORA) {
            return new Prepared(apply(model, cfg, newlyInitialized), null);
        }
        LoraConfig lc = lora;
        if (newlyInitialized.stream().anyMatch(k -> k.contains("pooler.")) && !lc.modulesToSave().contains("pooler")) {
            List<String> save = new ArrayList<>(lc.modulesToSave());
            save.add("pooler"); // the pooler is new too: train and save it with the head
            lc = lc.withModulesToSave(save);
        }
        Lora injected = Lora.inject(model, lc, cfg.seed());
        return new Prepared(injected.makeTrainable(), injected);
    }

    /**
     * Marks the trainable parameters on the model's store and returns them (full, frozen, partial).
     *
     * @param newlyInitialized names of parameters that were not in the checkpoint
     */
    public static List<Param> apply(TransformerModel model, TrainingConfig cfg, Set<String> newlyInitialized) {
        Predicate<String> head = k -> model.head().modulePrefixes().stream().anyMatch(k::startsWith);
        Predicate<String> isNew = newlyInitialized::contains;
        Predicate<String> trainable = switch (cfg.strategy()) {
            case FULL -> k -> true;
            case FROZEN -> head.or(isNew);
            case PARTIAL -> {
                int layers = model.config().encoder().numLayers();
                if (cfg.frozenLayers() > layers) {
                    throw new IllegalArgumentException("--frozen-layers " + cfg.frozenLayers() + " exceeds the model's "
                            + layers + " layers");
                }
                requireUnsharedBoundary(model, cfg.frozenLayers());
                Predicate<String> frozen = k -> k.startsWith(model.encoder().embeddingsPrefix());
                for (int i = 0; i < cfg.frozenLayers(); i++) {
                    String p = model.encoder().layerPrefix(i);
                    frozen = frozen.or(k -> k.startsWith(p));
                }
                yield frozen.negate().or(isNew);
            }
            case LORA -> throw new IllegalArgumentException("the lora strategy is set up by org.finetune4j.lora");
        };
        model.parameters().setTrainable(trainable);
        List<Param> out = model.parameters().trainable();
        for (Param p : model.parameters().params().values()) {
            p.array().setRequiresGradient(p.trainable());
        }
        return out;
    }

    /**
     * Freezing the lowest {@code frozen} layers by their weights needs every layer above to run other
     * weights. ALBERT's layers share weights (one layer group for all layers in every released
     * checkpoint): there, only a boundary between two groups can be honoured, and anything else is
     * refused instead of silently freezing layers above the boundary or training those below it.
     */
    static void requireUnsharedBoundary(TransformerModel model, int frozen) {
        int layers = model.config().encoder().numLayers();
        if (sharesAcross(model, frozen, layers)) {
            List<Integer> possible = new ArrayList<>();
            for (int k = 0; k <= layers; k++) {
                if (!sharesAcross(model, k, layers)) {
                    possible.add(k);
                }
            }
            throw new IllegalArgumentException("--frozen-layers " + frozen + " cannot be honoured by this "
                    + model.config().encoder().modelType() + " model: its layers share weights (layer " + frozen
                    + " runs \"" + model.encoder().layerPrefix(frozen) + "*\", as a layer below it does), so they"
                    + " cannot be frozen apart. Choose --frozen-layers from " + possible
                    + ", or the frozen or lora strategy.");
        }
    }

    /** Whether a layer at or above {@code frozen} runs the same weights as one below it. */
    private static boolean sharesAcross(TransformerModel model, int frozen, int layers) {
        Set<String> below = new java.util.HashSet<>();
        for (int i = 0; i < frozen; i++) {
            below.add(model.encoder().layerPrefix(i));
        }
        for (int i = frozen; i < layers; i++) {
            if (below.contains(model.encoder().layerPrefix(i))) {
                return true;
            }
        }
        return false;
    }

    /** Whether the encoder's pooler (BERT's pooler.dense, ALBERT's pooler) trains (it then cannot be cached). */
    public static boolean poolerTrains(TransformerModel model) {
        return model.parameters().params().values().stream()
                .anyMatch(p -> p.trainable() && p.name().contains("pooler."));
    }
}
