package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The fine-tuning techniques' settings: defaults that change nothing, clear refusals out of range, JSON names. */
class TechniqueSettingsTest {

    private static void refused(Consumer<TrainingConfig.Builder> set, String... words) {
        TrainingConfig.Builder b = TrainingConfig.builder();
        set.accept(b);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), e.getMessage());
        }
    }

    @Test
    void layerwiseLrDecayIsInZeroToOne() {
        assertEquals(1.0, TrainingConfig.builder().build().layerwiseLrDecay(), "off by default");
        assertEquals(0.8, TrainingConfig.builder().layerwiseLrDecay(0.8).build().layerwiseLrDecay());
        assertEquals(1.0, TrainingConfig.builder().layerwiseLrDecay(1.0).build().layerwiseLrDecay());
        refused(b -> b.layerwiseLrDecay(0), "layerwise_lr_decay", "(0, 1]");
        refused(b -> b.layerwiseLrDecay(1.2), "layerwise_lr_decay", "1.2");
        refused(b -> b.layerwiseLrDecay(Double.NaN), "layerwise_lr_decay");
        assertTrue(TrainingConfig.builder().layerwiseLrDecay(0.8).build().toJson().contains("\"layerwise_lr_decay\" : 0.8"));
    }

    @Test
    void emaDecayIsInZeroToOneExcluded() {
        assertEquals(0.0, TrainingConfig.builder().build().emaDecay(), "off by default");
        assertEquals(0.999, TrainingConfig.builder().emaDecay(0.999).build().emaDecay());
        refused(b -> b.emaDecay(1.0), "ema_decay", "[0, 1)");
        refused(b -> b.emaDecay(-0.1), "ema_decay");
        assertTrue(TrainingConfig.builder().emaDecay(0.99).build().toJson().contains("\"ema_decay\" : 0.99"));
    }

    @Test
    void reinitTopLayersIsACountForTheStrategiesThatTrainLayers() {
        assertEquals(0, TrainingConfig.builder().build().reinitTopLayers(), "off by default");
        assertEquals(2, TrainingConfig.builder().strategy("partial").frozenLayers(1).reinitTopLayers(2).build().reinitTopLayers());
        refused(b -> b.reinitTopLayers(-1), "reinit_top_layers", ">= 0");
        assertTrue(TrainingConfig.builder().reinitTopLayers(3).build().toJson().contains("\"reinit_top_layers\" : 3"));
    }
}
