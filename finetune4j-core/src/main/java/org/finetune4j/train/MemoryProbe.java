package org.finetune4j.train;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.finetune4j.io.NativeMemory;
import org.finetune4j.io.ProcessMemory;

/**
 * Keeps a long run's memory flat and shows that it is: every {@value #TRIM_INTERVAL_STEPS} optimizer
 * steps, and after each evaluation, free heap pages go back to the OS (malloc_trim), and each training
 * log line gains keys transformers does not log: {@code rss_mb} (resident memory), at a trim step
 * {@code rss_trimmed_mb} (what stays resident after the trim: a leak would raise this one) and
 * {@code native_arrays} (live arrays of the run's manager). The launcher turns glibc's own trimming off
 * so steps do not churn mmap; without these trims memory freed between differently shaped batches stayed
 * resident and the resident set crept up (docs/performance.md, "Memory"; TrainerTest checks rss_trimmed_mb at each trim step).
 */
public final class MemoryProbe implements TrainerListener {
    /** One trim re-faults a step's worth of pages at most: well under 1 % of this many steps. */
    static final int TRIM_INTERVAL_STEPS = 50;

    private final NDManager root;
    private long trimmedAtStep = -1;

    /** @param root the manager whose live arrays are counted (the run's) */
    public MemoryProbe(NDManager root) {
        this.root = root;
    }

    @Override
    public void onLog(Map<String, Object> rec) {
        if (!rec.containsKey("loss")) {
            NativeMemory.trim(); // an evaluation's larger batches: not kept resident
            return;
        }
        long rss = ProcessMemory.rssBytes();
        if (rss > 0) {
            rec.put("rss_mb", megabytes(rss));
        }
        long step = ((Number) rec.get("step")).longValue();
        if (step % TRIM_INTERVAL_STEPS == 0) {
            NativeMemory.trim();
            trimmedAtStep = step;
            long trimmed = ProcessMemory.rssBytes();
            if (trimmed > 0) {
                rec.put("rss_trimmed_mb", megabytes(trimmed));
            }
        }
        if (root instanceof BaseNDManager base) {
            rec.put("native_arrays", base.getManagedArrays().size());
        }
    }

    @Override
    public void onStep(long globalStep, long totalSteps, double loss, Control control) {
        if (globalStep % TRIM_INTERVAL_STEPS == 0 && globalStep != trimmedAtStep) {
            NativeMemory.trim(); // a step without a log line
        }
    }

    private static double megabytes(long bytes) {
        return Math.round(bytes / 1e5) / 10.0;
    }
}
