package org.finetune4j.spark;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.finetune4j.api.SentenceEncoder;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.nn.Precision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of this JVM (an executor, or the driver in local mode), loaded once per model path however
 * many tasks and partitions use them, and closed when the JVM ends. Tasks of one executor run at the
 * same time and share one {@link TextClassifier} (safe between threads, its javadoc says).
 *
 * <p>Intra-op threads: libtorch's thread pool is process-wide and sized once, when the engine starts.
 * The first model load sets {@code ai.djl.pytorch.num_threads} to the task's {@code spark.task.cpus}
 * (and one inter-op thread) before the engine starts, unless the JVM was given that property: an
 * executor running {@code spark.executor.cores / spark.task.cpus} tasks at once then uses as many
 * threads as it has cores, not as many per task as the machine has. DJL reads the property only at
 * engine start (PtEngine); {@code JniUtils.setNumThreads} would change the same process-wide pool
 * per call, so concurrent tasks would keep resizing it — the property is the one setting that holds.
 */
final class ModelCache {
    private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
    static final String NUM_THREADS = "ai.djl.pytorch.num_threads";
    static final String NUM_INTEROP_THREADS = "ai.djl.pytorch.num_interop_threads";

    /** What identifies a loaded model: where it came from and how it truncates. */
    record Key(String kind, String modelPath, String adapterPath, int maxLength) {
    }

    private static final Map<Key, AutoCloseable> MODELS = new ConcurrentHashMap<>();
    private static volatile boolean engineStarted;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ModelCache::closeAll, "finetune4j-model-cache-close"));
    }

    private ModelCache() {
    }

    /** The classifier at {@code modelPath} (plus {@code adapterPath}, or null), loaded on first use in this JVM. */
    static TextClassifier classifier(String modelPath, String adapterPath, int maxLength, int taskCpus) {
        return (TextClassifier) MODELS.computeIfAbsent(new Key("classifier", modelPath, adapterPath, maxLength),
                k -> load(k, taskCpus, () -> {
                    Path dir = ModelFiles.local(modelPath);
                    return adapterPath == null ? TextClassifier.load(dir, maxLength)
                            : TextClassifier.load(dir, ModelFiles.local(adapterPath), maxLength);
                }));
    }

    /** The sentence encoder of the model at {@code modelPath}, loaded on first use in this JVM. */
    static SentenceEncoder encoder(String modelPath, int maxLength, int taskCpus) {
        return (SentenceEncoder) MODELS.computeIfAbsent(new Key("encoder", modelPath, null, maxLength),
                k -> load(k, taskCpus, () -> SentenceEncoder.load(ModelFiles.local(modelPath), maxLength)));
    }

    /** Puts {@code precision} in force for this JVM (process-wide, as {@link Precision} is); a bf16 fallback is logged. */
    static void usePrecision(String precision) {
        Precision wanted = Precision.parse(precision);
        if (Precision.current() != wanted) {
            Precision.Choice c = Precision.use(wanted);
            if (c.fallback() != null) {
                LOG.warn("finetune4j: precision bf16 asked for on host {}: {}", ModelFiles.host(), c.fallback());
            }
        }
    }

    private static AutoCloseable load(Key key, int taskCpus, Supplier<AutoCloseable> loader) {
        startEngine(taskCpus);
        long start = System.nanoTime();
        AutoCloseable model = loader.get();
        LOG.info("finetune4j: loaded {} {} on host {} in {} ms", key.kind(), key.modelPath(), ModelFiles.host(),
                (System.nanoTime() - start) / 1_000_000);
        return model;
    }

    /** Starts DJL's engine once, with the task's cores as intra-op threads; logs how long it took (native extraction included). */
    private static synchronized void startEngine(int taskCpus) {
        if (engineStarted) {
            return;
        }
        if (System.getProperty(NUM_THREADS) == null) {
            System.setProperty(NUM_THREADS, String.valueOf(Math.max(1, taskCpus)));
            System.setProperty(NUM_INTEROP_THREADS, "1");
        }
        long start = System.nanoTime();
        Engine engine = Engine.getInstance();
        LOG.info("finetune4j: engine {} {} ready on host {} in {} ms ({} intra-op threads)", engine.getEngineName(),
                engine.getVersion(), ModelFiles.host(), (System.nanoTime() - start) / 1_000_000, JniUtils.getNumThreads());
        engineStarted = true;
    }

    /** Closes every model; called when the JVM ends. Native memory is the OS's again either way. */
    static void closeAll() {
        for (Key k : MODELS.keySet()) {
            AutoCloseable m = MODELS.remove(k);
            try {
                if (m != null) {
                    m.close();
                }
            } catch (Exception e) {
                LOG.warn("finetune4j: closing {} failed: {}", k, e.toString());
            }
        }
    }

    /** The models this JVM holds (tests: one per path, whatever the number of partitions). */
    static java.util.Set<Key> keys() {
        return java.util.Set.copyOf(MODELS.keySet());
    }
}
