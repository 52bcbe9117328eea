package org.finetune4j.golden;

import com.fasterxml.jackson.databind.JsonNode;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.train.LrSchedule;
import org.junit.jupiter.api.Test;

/**
 * {@link LrSchedule} against transformers' get_linear_schedule_with_warmup and
 * get_cosine_schedule_with_warmup (golden/schedules): the rate of every optimizer step, base rate times
 * the multiplier as {@code Trainer.step} computes it, and warmup_ratio turned into steps as
 * TrainingArguments.get_warmup_steps does (ceil).
 */
@NeedsSharedData
class ScheduleParityTest {
    private static final double TOL = 1e-15;

    @Test
    void warmup10Total100() {
        check("warmup10_total100", false);
    }

    @Test
    void warmupRatio01Total57() {
        check("ratio0.1_total57", true);
    }

    private static void check(String name, boolean fromRatio) {
        Golden g = Golden.fixture("schedules");
        JsonNode c = g.json().get(name);
        double base = c.get("base_lr").asDouble();
        long total = c.get("num_training_steps").asLong();
        long warmup = c.get("num_warmup_steps").asLong();
        if (fromRatio) {
            g.assertExact(name + ":warmup steps from warmup_ratio 0.1", new long[] {warmup},
                    new long[] {LrSchedule.warmupFromRatio(0.1, total)});
        }
        for (String type : new String[] {"linear", "cosine"}) {
            LrSchedule s = new LrSchedule(type, warmup, total);
            double[] want = Golden.doubles(c.get(type));
            double[] got = new double[want.length];
            for (int k = 0; k < got.length; k++) {
                got[k] = base * s.multiplier(k);
            }
            g.assertClose(name + ":" + type, want, got, TOL);
        }
    }
}
