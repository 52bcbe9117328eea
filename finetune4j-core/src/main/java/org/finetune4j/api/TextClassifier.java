package org.finetune4j.api;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.data.TextCleaner;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.lora.Lora;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.text.Padding;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.text.Tokenized;
import org.finetune4j.train.Evaluation;

/**
 * A trained classifier ready to predict. Loads a model directory, or a base model plus a LoRA adapter.
 * Texts are cleaned and truncated as the model was trained (config.json, finetune4j.preprocessing), and
 * batched by length; a binary model's saved decision threshold decides its label. Safe to share
 * between threads.
 *
 * <pre>
 * try (TextClassifier clf = TextClassifier.load(Path.of("runs/tweets-full"))) {
 *     Prediction p = clf.predict("forest fire near la ronge");         // p.label(), p.score(), p.scores()
 *     List&lt;Prediction&gt; ps = clf.predictBatch(List.of("a", "b"));
 *     float[][] probs = clf.probabilities(List.of("a", "b"), null);    // N x C, label-id order
 * }
 * </pre>
 */
public final class TextClassifier implements AutoCloseable {
    /** In an adapter directory, the classifier config (labels, head) the adapter belongs to. */
    public static final String ADAPTER_CLASSIFIER_CONFIG = "classifier_config.json";
    private static final double MULTI_LABEL_THRESHOLD = 0.5;
    /** Texts per forward pass unless a caller says otherwise. */
    public static final int DEFAULT_BATCH_SIZE = 32;

    private final NDManager manager;
    private final TransformerModel model;
    private final TextTokenizer tokenizer;
    private final TextCleaner cleaner;

    private TextClassifier(NDManager manager, TransformerModel model, TextTokenizer tokenizer) {
        this.manager = manager;
        this.model = model;
        this.tokenizer = tokenizer;
        this.cleaner = cleaner(model.config());
    }

    /** The text cleaning the model was trained with (config.json, finetune4j.preprocessing.text_cleaning), or none. */
    static TextCleaner cleaner(ModelConfig config) {
        if (config.preprocessing() == null || !config.preprocessing().has("text_cleaning")) {
            return TextCleaner.NONE;
        }
        try {
            // Training writes the cleaner with Jackson, which adds the derived "noop" (isNoop()); it is not a setting.
            return new com.fasterxml.jackson.databind.ObjectMapper()
                    .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE)
                    .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                    .treeToValue(config.preprocessing().get("text_cleaning"), TextCleaner.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new CheckpointException("config.json: finetune4j.preprocessing is not a valid text-cleaning setting ("
                    + e.getMessage() + ")");
        }
    }

    /** Loads a fine-tuned model directory (config.json, model.safetensors, tokenizer.json). */
    public static TextClassifier load(Path dir) {
        return load(dir, 0);
    }

    /**
     * {@link #load(Path)}, truncating texts to {@code maxLength} tokens instead of the length the model
     * was trained with (0 keeps that length); at most the model's position count.
     */
    public static TextClassifier load(Path dir, int maxLength) {
        if (Files.isRegularFile(dir.resolve(org.finetune4j.lora.LoraConfig.FILE)) && !Files.exists(dir.resolve(ModelConfig.FILE))) {
            throw new CheckpointException(dir + " is a LoRA adapter, not a whole model: load it with its base model"
                    + " (--model BASE --adapter " + dir + ")");
        }
        NDManager m = NDManager.newBaseManager();
        try {
            TransformerModel.Loaded l = TransformerModel.load(dir, m);
            if (!l.model().config().isClassifier()) {
                l.model().close();
                throw new CheckpointException(dir + " holds a bare encoder (" + l.model().config().architecture()
                        + "), not a classifier: fine-tune it first with ./finetune4j train");
            }
            return new TextClassifier(m, l.model(), tokenizer(dir, l.model().config(), maxLength));
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** Loads a base model and a LoRA adapter trained on it. */
    public static TextClassifier load(Path baseDir, Path adapterDir) {
        return load(baseDir, adapterDir, 0);
    }

    /** {@link #load(Path, Path)} with another maximum length in tokens, as {@link #load(Path, int)}. */
    public static TextClassifier load(Path baseDir, Path adapterDir, int maxLength) {
        NDManager m = NDManager.newBaseManager();
        try {
            TransformerModel model = loadAdapted(baseDir, adapterDir, m).model();
            try {
                Path tokDir = Files.isRegularFile(adapterDir.resolve(TextTokenizer.TOKENIZER_JSON)) ? adapterDir : baseDir;
                return new TextClassifier(m, model, tokenizer(tokDir, model.config(), maxLength));
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * The base model with the adapter applied, as {@link #load(Path, Path)} builds it, without the
     * tokenizer (for callers on token ids). Every weight the base checkpoint lacked must come from the
     * adapter: PEFT's PeftModel.from_pretrained keeps whatever the base model's from_pretrained
     * initialised at random, so an adapter trained on a base without pooler weights (and without the
     * pooler in modules_to_save) cannot be reproduced, by PEFT or here, and is refused rather than run
     * with a random pooler.
     */
    public static Lora loadAdapted(Path baseDir, Path adapterDir, NDManager manager) {
        ModelConfig clf = adapterClassifierConfig(baseDir, adapterDir);
        TransformerModel.Loaded loaded = TransformerModel.fromPretrained(baseDir, manager,
                base -> base.withClassifier(clf.labels(), clf.problemType(), clf.head())
                        .withDecisionThreshold(clf.decisionThreshold()), true, 0);
        TransformerModel model = loaded.model();
        try {
            Lora lora = Lora.load(model, adapterDir);
            List<String> random = loaded.report().missing().stream().filter(k -> !lora.restored(k)).toList();
            if (!random.isEmpty()) {
                lora.unload();
                throw new CheckpointException(notReproducible(baseDir, adapterDir, random, model, lora.config().baseModelNameOrPath()));
            }
            return lora;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** What to say when weights would stay randomly initialised: which, why, and what to do. */
    private static String notReproducible(Path baseDir, Path adapterDir, List<String> random, TransformerModel model,
            String namedBase) {
        boolean pooler = random.stream().anyMatch(k -> k.contains("pooler."));
        String which = random.subList(0, Math.min(6, random.size())) + (random.size() > 6 ? " (" + random.size() + " in all)" : "");
        boolean hubId = namedBase != null && !namedBase.startsWith("/") && !namedBase.startsWith(".")
                && org.finetune4j.hub.HubModelId.problem(namedBase) == null;
        String trainedOn = namedBase == null ? "" : " (adapter_config.json names " + namedBase + (hubId ? "; the packaged"
                + " export of a Hub model has no pooler: --model " + namedBase + "@main downloads the original" : "") + ")";
        if (pooler) {
            return "the base model " + baseDir + " has no pooler weights and the adapter " + adapterDir + " saves none"
                    + " either, but the classification head (pooling \"" + model.config().head().pooling().id()
                    + "\") reads the pooler: " + which + " would be random, so this adapter's predictions cannot be"
                    + " reproduced (PEFT re-initialises that pooler at random on every load too). Retrain the adapter with"
                    + " the pooler saved (PEFT: modules_to_save=[\"pooler\"]; ./finetune4j train does this by itself),"
                    + " load it onto the base checkpoint that has the pooler weights it was trained with" + trainedOn + ", or train"
                    + " with a head that does not read the pooler (--pooling cls).";
        }
        return "the base model " + baseDir + " lacks weights that the adapter " + adapterDir + " does not provide either: "
                + which + ". They would be random. Load the adapter onto the base model it was trained from"
                + " (adapter_config.json names it), or retrain it with those modules in modules_to_save.";
    }

    /**
     * The classifier an adapter belongs to: ours records it in classifier_config.json; for an adapter
     * trained with Python PEFT, the label count is read from its saved head and the labels are named
     * LABEL_0.. as transformers names them.
     */
    public static ModelConfig adapterClassifierConfig(Path baseDir, Path adapterDir) {
        Path f = adapterDir.resolve(ADAPTER_CLASSIFIER_CONFIG);
        if (Files.isRegularFile(f)) {
            return ModelConfig.readFile(f);
        }
        ModelConfig base = ModelConfig.read(baseDir);
        if (base.isClassifier()) {
            return base;
        }
        int n = Lora.savedNumLabels(adapterDir);
        if (n <= 0) {
            throw new CheckpointException(adapterDir + ": cannot tell how many labels the adapter's head predicts"
                    + " (no classifier weights and no " + ADAPTER_CLASSIFIER_CONFIG + ")");
        }
        List<String> labels = IntStream.range(0, n).mapToObj(i -> "LABEL_" + i).toList();
        return base.withClassifier(labels, ProblemType.SINGLE_LABEL, HeadConfig.standard(base.encoder()));
    }

    private static TextTokenizer tokenizer(Path dir, ModelConfig cfg, int maxLength) {
        if (maxLength < 0) {
            throw new IllegalArgumentException("max length must be positive (or 0 for the model's own), got " + maxLength);
        }
        int positions = cfg.encoder().maxInputLength();
        if (maxLength > positions) {
            throw new IllegalArgumentException("max length " + maxLength + " is more than the " + positions
                    + " positions this model has (" + dir + "/config.json): give at most " + positions);
        }
        TextTokenizer probe = TextTokenizer.load(dir, 0);
        // The length asked for, else the one the model was trained with, else the tokenizer's model_max_length,
        // else the positions.
        int trained = cfg.preprocessing() == null ? 0 : cfg.preprocessing().path("max_length").asInt(0);
        int max = maxLength > 0 ? maxLength : trained > 0 ? trained
                : probe.modelMaxLength() > 0 ? probe.modelMaxLength() : cfg.encoder().maxPositionEmbeddings();
        probe.checkCompatible(cfg.encoder().vocabSize(), dir.toString());
        TextTokenizer t = probe.withMaxLength(Math.min(max, positions));
        probe.close();
        return t;
    }

    /** The prediction for one text. */
    public Prediction predict(String text) {
        return predictBatch(List.of(text)).get(0);
    }

    /** The prediction for one text pair (NLI, question + passage); {@code pair} may be null. */
    public Prediction predict(String text, String pair) {
        return predictBatch(List.of(text), pair == null ? null : List.of(pair)).get(0);
    }

    /** Predictions for many texts, in their order; batched by length, {@value #DEFAULT_BATCH_SIZE} at a time. */
    public List<Prediction> predictBatch(List<String> texts) {
        return predictBatch(texts, null);
    }

    public List<Prediction> predictBatch(List<String> texts, List<String> pairs) {
        return predictBatch(texts, pairs, DEFAULT_BATCH_SIZE, null);
    }

    /**
     * Predictions for many texts (and pairs, or null), in their order.
     *
     * @param batchSize texts per forward pass
     * @param progress told after each batch how many texts are done, or null
     */
    public List<Prediction> predictBatch(List<String> texts, List<String> pairs, int batchSize, Evaluation.Progress progress) {
        float[][] probs = probabilities(logits(texts, pairs, batchSize, progress));
        List<Prediction> out = new ArrayList<>(probs.length);
        for (float[] p : probs) {
            out.add(prediction(p));
        }
        return out;
    }

    /** Class probabilities (softmax, or sigmoid per label for multi-label), N x C in label-id order. */
    public float[][] probabilities(List<String> texts, List<String> pairs) {
        return probabilities(logits(texts, pairs, DEFAULT_BATCH_SIZE, null));
    }

    /** Probabilities from {@link #logits}: softmax, or sigmoid per label for multi-label (as training evaluates). */
    public float[][] probabilities(float[][] logits) {
        return model.config().problemType() == ProblemType.MULTI_LABEL ? Evaluation.sigmoid(logits) : Evaluation.softmax(logits);
    }

    /**
     * The model's raw outputs, N x C in label-id order, after the model's own cleaning and truncation.
     * Texts are sorted longest first so batches carry little padding; results come back in input order.
     *
     * @param pairs second texts, or null
     * @param batchSize texts per forward pass
     * @param progress told after each batch how many texts are done, or null
     */
    public float[][] logits(List<String> texts, List<String> pairs, int batchSize, Evaluation.Progress progress) {
        if (pairs != null && pairs.size() != texts.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + pairs.size() + " pair texts");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("the batch size must be at least 1, got " + batchSize);
        }
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i) == null) {
                throw new IllegalArgumentException("text " + i + " is null");
            }
        }
        List<Tokenized> enc = tokenizer.encodeAll(clean(texts), pairs == null ? null : clean(pairs));
        Integer[] order = IntStream.range(0, enc.size()).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt(i -> -enc.get(i).length()));
        float[][] out = new float[enc.size()][];
        int pad = model.config().encoder().padTokenId();
        for (int start = 0; start < order.length; start += batchSize) {
            int end = Math.min(order.length, start + batchSize);
            List<Tokenized> batch = new ArrayList<>();
            for (int j = start; j < end; j++) {
                batch.add(enc.get(order[j]));
            }
            try (NDManager m = manager.newSubManager()) {
                NDArray logits = model.logits(Padding.batch(m, batch, pad), false); // (B, C)
                int c = (int) logits.getShape().get(1);
                float[] flat = logits.toFloatArray();
                for (int j = start; j < end; j++) {
                    out[order[j]] = Arrays.copyOfRange(flat, (j - start) * c, (j - start + 1) * c);
                }
            }
            if (progress != null) {
                progress.update(end, order.length);
            }
        }
        return out;
    }

    private List<String> clean(List<String> texts) {
        if (cleaner.equals(TextCleaner.NONE)) {
            return texts;
        }
        List<String> out = new ArrayList<>(texts.size());
        for (String t : texts) {
            out.add(t == null ? null : cleaner.clean(t));
        }
        return out;
    }

    /**
     * The prediction for one row of {@link #probabilities}: the most probable label, or for a binary
     * model with a saved decision threshold, label 1 when P(label 1) exceeds it; for multi-label, every
     * label above 0.5.
     */
    public Prediction prediction(float[] p) {
        List<String> names = model.config().labels();
        Map<String, Double> scores = new LinkedHashMap<>();
        for (int c = 0; c < p.length; c++) {
            scores.put(names.get(c), (double) p[c]);
        }
        if (model.config().problemType() == ProblemType.MULTI_LABEL) {
            List<String> on = new ArrayList<>();
            int best = 0;
            for (int c = 0; c < p.length; c++) {
                if (p[c] > MULTI_LABEL_THRESHOLD) { // as MultiLabelMetrics: strictly above
                    on.add(names.get(c));
                }
                if (p[c] > p[best]) {
                    best = c;
                }
            }
            String top = on.isEmpty() ? names.get(best) : on.get(0);
            return new Prediction(top, scores.get(top), on, scores);
        }
        int k = argmax(p);
        Double threshold = model.config().decisionThreshold();
        if (threshold != null) {
            k = p[1] > threshold ? 1 : 0; // binary: the threshold chosen on validation data (strict, as ClassificationMetrics)
        }
        return new Prediction(names.get(k), p[k], List.of(names.get(k)), scores);
    }

    static int argmax(float[] p) {
        int k = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[k]) {
                k = c;
            }
        }
        return k;
    }

    public ModelConfig config() {
        return model.config();
    }

    public List<String> labels() {
        return model.config().labels();
    }

    public int maxLength() {
        return tokenizer.maxLength();
    }

    public TransformerModel model() {
        return model;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
        manager.close();
    }
}
