package org.finetune4j.train;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.finetune4j.io.HostTensor;
import org.finetune4j.models.Encoder;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;

/**
 * Re-initialises the top k encoder layers and the pooler before training, as Zhang et al. 2021
 * ("Revisiting Few-sample BERT Fine-tuning", section 5) do: the pre-trained top layers specialise in the
 * pre-training task, and fresh ones fine-tune better on small data. Each parameter is drawn again from its
 * own initializer, the architecture's {@code _init_weights}: linear weights from N(0, initializer_range)
 * (config.json's, 0.02 by default), biases 0, LayerNorm weight 1 and bias 0. The pooler (BERT's
 * pooler.dense, DeBERTa's ContextPooler) is re-initialised too, as in the paper, when the model has one.
 * Values come from a generator seeded by the run's seed and the parameter's name (apart from the one that
 * draws new heads), so a run is reproducible.
 *
 * <p>Refused: k above the number of layers; shared layers (ALBERT), where the top layers run the lower
 * layers' weights; the lora and frozen strategies (the fresh layers would not train) and a partial run
 * whose frozen layers reach into the top k.
 */
public final class ReinitTopLayers {
    /** Keeps the re-initialised values apart from those {@code initializeMissing} draws for a new head with the same seed. */
    private static final long SEED_SALT = 0x7265696E6974L; // "reinit"

    private ReinitTopLayers() {
    }

    /** Re-initialises the top {@code cfg.reinitTopLayers()} layers and the pooler; nothing when it is 0. */
    public static void apply(TransformerModel model, TrainingConfig cfg) {
        int k = cfg.reinitTopLayers();
        if (k == 0) {
            return;
        }
        Encoder e = model.encoder();
        int layers = model.config().encoder().numLayers();
        if (k > layers) {
            throw new IllegalArgumentException("--reinit-top-layers " + k + " exceeds the model's " + layers + " layers");
        }
        if (cfg.frozenLayers() + k > layers && cfg.strategy() == Strategy.PARTIAL) {
            throw new IllegalArgumentException("--reinit-top-layers " + k + " with --frozen-layers " + cfg.frozenLayers()
                    + " would freeze re-initialised layers (the model has " + layers + "): keep their sum at most " + layers);
        }
        List<String> prefixes = new ArrayList<>();
        for (int i = layers - k; i < layers; i++) {
            prefixes.add(e.layerPrefix(i));
        }
        Set<String> below = new HashSet<>();
        for (int i = 0; i < layers - k; i++) {
            below.add(e.layerPrefix(i));
        }
        for (int i = layers - k; i < layers; i++) {
            if (below.contains(e.layerPrefix(i))) {
                throw new IllegalArgumentException("--reinit-top-layers cannot be honoured by this "
                        + model.config().encoder().modelType() + " model: its layers share weights (layer " + i + " runs \""
                        + e.layerPrefix(i) + "*\", as a layer below it does), so the top layers cannot be re-initialised"
                        + " apart from the lower ones. Train without --reinit-top-layers.");
            }
        }
        prefixes.add(e.poolerPrefix());
        long seed = cfg.seed() ^ SEED_SALT;
        for (Param p : model.parameters().params().values()) {
            if (prefixes.stream().anyMatch(p.name()::startsWith)) {
                float[] v = p.init().values(Math.toIntExact(p.numel()), seed, p.name());
                model.parameters().set(p.name(), HostTensor.ofFloats(v, p.shape().getShape()));
            }
        }
    }
}
