package org.finetune4j.train;

/**
 * transformers' learning-rate schedules (optimization.py), as multipliers of the base rate by
 * optimizer step. As in the Trainer, the rate used for update k (0-based) is lambda(k): with warmup
 * the first update uses rate 0.
 */
public record LrSchedule(String type, long warmupSteps, long totalSteps) {
    public static final java.util.Set<String> TYPES = java.util.Set.of("linear", "cosine", "constant", "constant_with_warmup");

    public LrSchedule {
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("unknown lr_scheduler_type \"" + type + "\"; choose one of "
                    + new java.util.TreeSet<>(TYPES));
        }
        if (warmupSteps < 0 || totalSteps < 1) {
            throw new IllegalArgumentException("need warmup_steps >= 0 and at least one training step");
        }
    }

    /** warmup_ratio as the Trainer turns it into steps: ceil(total * ratio). */
    public static long warmupFromRatio(double ratio, long totalSteps) {
        return (long) Math.ceil(totalSteps * ratio);
    }

    public double multiplier(long step) {
        if (type.equals("constant")) {
            return 1.0;
        }
        if (step < warmupSteps) {
            return (double) step / Math.max(1, warmupSteps);
        }
        if (type.equals("constant_with_warmup")) {
            return 1.0;
        }
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        if (type.equals("linear")) {
            return Math.max(0.0, 1.0 - progress);
        }
        // cosine with num_cycles = 0.5: from 1 down to 0 over the post-warmup steps.
        return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
    }
}
