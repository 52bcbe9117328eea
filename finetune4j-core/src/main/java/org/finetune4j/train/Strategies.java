package org.finetune4j.train;

import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;

/**
 * Which parameters train under each strategy. Parameters the checkpoint did not provide (a new head,
 * or BERT's pooler missing from an export) always train: freezing a random layer would only hurt.
 */
public final class Strategies {
    private Strategies() {
    }

    /**
     * Marks the trainable parameters on the model's store and returns them.
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

    /** Whether BERT's pooler is among the trainable parameters (it then cannot be cached). */
    public static boolean poolerTrains(TransformerModel model) {
        return model.parameters().params().values().stream()
                .anyMatch(p -> p.trainable() && p.name().contains("pooler.dense."));
    }
}
