package org.finetune4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.finetune4j.config.AlbertConfig;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.DebertaV2Config;
import org.finetune4j.config.DistilBertConfig;
import org.finetune4j.config.ElectraConfig;
import org.finetune4j.config.MPNetConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.Pooling;
import org.finetune4j.io.TensorSource;
import org.finetune4j.io.WeightFiles;
import org.finetune4j.nn.LoadOptions;
import org.finetune4j.nn.LoadReport;
import org.finetune4j.nn.ParameterStore;

/**
 * A BERT-family encoder and, for a classifier, its head: what transformers calls BertModel or
 * BertForSequenceClassification (and the DistilBERT and RoBERTa equivalents). It owns its parameters'
 * native memory; close it when done.
 */
public final class TransformerModel implements AutoCloseable {
    private ModelConfig config;
    private final ParameterStore store;
    private final Encoder encoder;
    private final Heads.Head head; // null for a bare encoder

    private TransformerModel(ModelConfig config, ParameterStore store, Encoder encoder, Heads.Head head) {
        this.config = config;
        this.store = store;
        this.encoder = encoder;
        this.head = head;
    }

    /**
     * Builds the model's structure (parameters registered, no values yet).
     *
     * @param withPooler whether a BERT encoder gets its pooler (needed when the head pools with it)
     */
    public static TransformerModel build(ModelConfig config, NDManager parent, boolean withPooler) {
        ParameterStore store = new ParameterStore(parent);
        try {
            String prefix = config.isClassifier() ? basePrefix(config.encoder().modelType()) : "";
            Encoder encoder = switch (config.encoder().modelType()) {
                case "bert" -> new Bert(store, prefix, (BertConfig) config.encoder(),
                        withPooler || config.isClassifier() && config.head().pooling() == Pooling.POOLER);
                case "distilbert" -> new DistilBert(store, prefix, (DistilBertConfig) config.encoder());
                case "roberta", "xlm-roberta" -> new Roberta(store, prefix, (BertConfig) config.encoder());
                case "electra" -> new Electra(store, prefix, (ElectraConfig) config.encoder());
                // DebertaV2Model has no pooler: only the classifier has its ContextPooler.
                case "deberta-v2" -> new DebertaV2(store, prefix, (DebertaV2Config) config.encoder(),
                        config.isClassifier() && config.head().pooling() == Pooling.POOLER);
                case "mpnet" -> new MPNet(store, prefix, (MPNetConfig) config.encoder());
                case "albert" -> new Albert(store, prefix, (AlbertConfig) config.encoder(),
                        withPooler || config.isClassifier() && config.head().pooling() == Pooling.POOLER);
                default -> throw new IllegalStateException(config.encoder().modelType());
            };
            Heads.Head head = config.isClassifier() ? Heads.create(store, config.head(), config.encoder().hiddenSize(),
                    config.numLabels(), config.encoder().initializerRange()) : null;
            return new TransformerModel(config, store, encoder, head);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** A model with freshly initialised weights (tests, or training from scratch). */
    public static TransformerModel random(ModelConfig config, NDManager parent, long seed) {
        TransformerModel m = build(config, parent, true);
        m.store.initializeMissing(seed);
        return m;
    }

    /** The result of loading: the model and what happened to each key. */
    public record Loaded(TransformerModel model, LoadReport report) {
    }

    /** Loads a model directory as it is (a bare encoder or a classifier). */
    public static Loaded load(Path dir, NDManager parent) {
        return fromPretrained(dir, parent, UnaryOperator.identity(), true, 0);
    }

    /**
     * Loads {@code dir}'s weights into the model that {@code configure} makes of its config: typically a
     * pre-trained encoder turned into a classifier with a new head, as transformers'
     * AutoModelForSequenceClassification.from_pretrained(dir, num_labels=...) does. A head that differs
     * from the checkpoint's (other labels or another head type) is newly initialised with {@code seed};
     * so is BERT's pooler when the checkpoint has none. Any other missing weight is an error.
     */
    public static Loaded fromPretrained(Path dir, NDManager parent, UnaryOperator<ModelConfig> configure, boolean strict,
            long seed) {
        ModelConfig stored = ModelConfig.read(dir);
        ModelConfig wanted = configure.apply(stored);
        try (WeightFiles files = WeightFiles.open(dir)) {
            return fromSource(files, stored, wanted, parent, strict, seed);
        }
    }

    static Loaded fromSource(TensorSource files, ModelConfig stored, ModelConfig wanted, NDManager parent, boolean strict,
            long seed) {
        boolean filePooler = files.names().stream().anyMatch(k -> k.endsWith("pooler.dense.weight") || k.endsWith("pooler.weight"));
        TransformerModel model = build(wanted, parent, filePooler && !wanted.isClassifier());
        try {
            boolean reuseHead = stored.isClassifier() && wanted.isClassifier() && stored.head().equals(wanted.head())
                    && stored.labels().equals(wanted.labels());
            List<String> mayBeNew = new ArrayList<>();
            List<String> storedHeadPrefixes = new ArrayList<>();
            if (wanted.isClassifier() && !reuseHead) {
                mayBeNew.addAll(model.head.modulePrefixes());
            }
            if (stored.isClassifier() && !reuseHead) {
                storedHeadPrefixes.addAll(Set.of("classifier.", "pre_classifier."));
            }
            if (!filePooler) {
                mayBeNew.add(model.encoder.poolerPrefix());
            }
            LoadOptions options = new LoadOptions(mayBeNew,
                    k -> model.encoder.isIgnorableKey(k) || storedHeadPrefixes.stream().anyMatch(k::startsWith), strict);
            LoadReport report = model.store.load(files, model.fileKeyMapper(files.names()), options);
            model.store.initializeMissing(seed);
            return new Loaded(model, report);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Maps a model key to the checkpoint key: adds or strips the base prefix ("bert.") as transformers
     * does when loading a bare model into a task model and back, and reads the legacy LayerNorm names
     * gamma/beta of old TensorFlow-converted checkpoints.
     */
    private Function<String, String> fileKeyMapper(Set<String> fileKeys) {
        String base = encoder.basePrefix();
        boolean fileHasBase = fileKeys.stream().anyMatch(k -> k.startsWith(base));
        String prefix = encoder.prefix();
        return key -> {
            String k = key;
            boolean encoderKey = !prefix.isEmpty() ? key.startsWith(prefix) : true;
            if (encoderKey) {
                if (!prefix.isEmpty() && !fileHasBase) {
                    k = key.substring(prefix.length());
                } else if (prefix.isEmpty() && fileHasBase) {
                    k = base + key;
                }
            }
            if (!fileKeys.contains(k) && k.endsWith("LayerNorm.weight")) {
                String legacy = k.substring(0, k.length() - "weight".length()) + "gamma";
                return fileKeys.contains(legacy) ? legacy : k;
            }
            if (!fileKeys.contains(k) && k.endsWith("LayerNorm.bias")) {
                String legacy = k.substring(0, k.length() - "bias".length()) + "beta";
                return fileKeys.contains(legacy) ? legacy : k;
            }
            return k;
        };
    }

    static String basePrefix(String modelType) {
        return switch (modelType) {
            case "bert" -> "bert.";
            case "distilbert" -> "distilbert.";
            case "roberta", "xlm-roberta" -> "roberta."; // XLMRobertaForSequenceClassification's too
            case "electra" -> "electra.";
            case "deberta-v2" -> "deberta.";
            case "mpnet" -> "mpnet.";
            case "albert" -> "albert.";
            default -> throw new IllegalArgumentException(modelType);
        };
    }

    // ---------------------------------------------------------------------------------------------

    public EncoderOutput encode(EncoderInput in, boolean training) {
        return encoder.forward(in, training);
    }

    /** Pooled features for the head: (B, H). */
    public NDArray features(EncoderInput in, boolean training) {
        return Pooler.pool(config.head().pooling(), encoder.forward(in, training), in.attentionMask());
    }

    /**
     * Whether the head reads BERT's pooler. When the pooler is also being trained (it was newly
     * initialised), cached features must stop before it: see {@link #cacheableFeatures}.
     */
    public boolean usesPooler() {
        return config.isClassifier() && config.head().pooling() == Pooling.POOLER;
    }

    /**
     * The part of the forward pass that a frozen-backbone run never changes, for caching: the pooled
     * features, or, when {@code poolerTrains}, the first-token states the pooler reads. -> (B, H).
     */
    public NDArray cacheableFeatures(EncoderInput in, boolean poolerTrains) {
        EncoderOutput out = encoder.forward(in, false);
        if (poolerTrains && usesPooler()) {
            return out.lastHiddenState().get(":, 0, :"); // (B, H)
        }
        return Pooler.pool(config.head().pooling(), out, in.attentionMask()); // (B, H)
    }

    /** The trainable rest of {@link #cacheableFeatures}: cached (B, H) -> logits (B, C). */
    public NDArray logitsFromCached(NDArray cached, boolean poolerTrains, boolean training) {
        NDArray features = poolerTrains && usesPooler() ? encoder.pooler(cached, training) : cached; // (B, H)
        return headForward(features, training);
    }

    /** The head alone: features (B, H) -> logits (B, C). */
    public NDArray headForward(NDArray features, boolean training) {
        requireHead();
        return head.forward(features, training);
    }

    /** input -> logits (B, C). */
    public NDArray logits(EncoderInput in, boolean training) {
        requireHead();
        return head.forward(features(in, training), training);
    }

    private void requireHead() {
        if (head == null) {
            throw new IllegalStateException("this model has no classification head (it is a bare encoder)");
        }
    }

    /** Writes config.json and the weights (tokenizer files are the caller's). */
    public void save(Path dir) {
        save(dir, WeightFiles.DEFAULT_MAX_SHARD_BYTES);
    }

    public void save(Path dir, long maxShardBytes) {
        WeightFiles.write(dir, store.stateDictViews(k -> true), maxShardBytes);
        config.write(dir);
    }

    public ModelConfig config() {
        return config;
    }

    /** Records the binary decision threshold chosen on validation data (saved in config.json). */
    public void setDecisionThreshold(Double threshold) {
        config = config.withDecisionThreshold(threshold);
    }

    public ParameterStore parameters() {
        return store;
    }

    public Encoder encoder() {
        return encoder;
    }

    public Heads.Head head() {
        return head;
    }

    public NDManager manager() {
        return store.manager();
    }

    @Override
    public void close() {
        store.close();
    }
}
