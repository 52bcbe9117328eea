package org.finetune4j.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;

/**
 * A whole config.json: the encoder's fields, the labels and problem type of a classifier, our head
 * choice, and every other field the file had (kept as is, so a round trip loses nothing).
 *
 * <p>Our own settings live under one key, {@code "finetune4j"}, which transformers ignores.
 *
 * @param labels id2label in id order; empty for a bare encoder
 * @param head null for a bare encoder; otherwise the classification head
 * @param decisionThreshold for binary classifiers, the probability of label 1 above which it is
 *     predicted (chosen on validation data); null means argmax
 * @param notes free-text notes kept under finetune4j.notes (for example how a model was imported)
 * @param preprocessing how texts were cleaned before tokenising in training (finetune4j.preprocessing),
 *     so that predictions clean them the same way; null for none
 * @param extra the fields of the original config.json that are not modelled here
 */
public record ModelConfig(EncoderConfig encoder, List<String> labels, ProblemType problemType, HeadConfig head,
        Double decisionThreshold, Map<String, String> notes, ObjectNode preprocessing, ObjectNode extra) {

    public static final String FILE = "config.json";
    public static final Set<String> SUPPORTED_MODEL_TYPES = Set.of("bert", "distilbert", "roberta", "xlm-roberta", "electra",
            "deberta-v2", "mpnet", "albert");
    /** Architectures whose classifier has a pooler: BertPooler, ALBERT's pooler, DeBERTa's ContextPooler. */
    static final Set<String> HAS_POOLER = Set.of("bert", "albert", "deberta-v2");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String OURS = "finetune4j";

    public ModelConfig {
        labels = List.copyOf(labels);
        notes = Map.copyOf(new LinkedHashMap<>(notes));
        extra = extra == null ? JSON.createObjectNode() : extra.deepCopy();
        preprocessing = preprocessing == null || preprocessing.isEmpty() ? null : preprocessing.deepCopy();
        if (head != null && labels.isEmpty()) {
            throw new IllegalArgumentException("a classification head needs at least one label");
        }
        if (head != null && head.pooling() == Pooling.POOLER && !HAS_POOLER.contains(encoder.modelType())) {
            throw new IllegalArgumentException("pooling \"pooler\" needs a BERT, ALBERT or DeBERTa-v2 encoder; " + encoder.modelType()
                    + " has no pooler: use cls or mean");
        }
        if (decisionThreshold != null && (labels.size() != 2 || problemType != ProblemType.SINGLE_LABEL)) {
            throw new IllegalArgumentException("a decision threshold applies to binary single-label classifiers only");
        }
    }

    /** A bare encoder config (no labels, no head). */
    public static ModelConfig encoderOnly(EncoderConfig encoder) {
        return new ModelConfig(encoder, List.of(), ProblemType.SINGLE_LABEL, null, null, Map.of(), null, null);
    }

    public boolean isClassifier() {
        return head != null;
    }

    public int numLabels() {
        return labels.size();
    }

    public ModelConfig withClassifier(List<String> labels, ProblemType problemType, HeadConfig head) {
        return new ModelConfig(encoder, labels, problemType, head, null, notes, preprocessing, extra);
    }

    public ModelConfig withDecisionThreshold(Double threshold) {
        return new ModelConfig(encoder, labels, problemType, head, threshold, notes, preprocessing, extra);
    }

    public ModelConfig withNote(String key, String value) {
        Map<String, String> n = new LinkedHashMap<>(notes);
        n.put(key, value);
        return new ModelConfig(encoder, labels, problemType, head, decisionThreshold, n, preprocessing, extra);
    }

    public ModelConfig withPreprocessing(ObjectNode textCleaning) {
        return new ModelConfig(encoder, labels, problemType, head, decisionThreshold, notes, textCleaning, extra);
    }

    /** The transformers class that loads this checkpoint with the same weights and head. */
    public String architecture() {
        String base = switch (encoder.modelType()) {
            case "bert" -> "Bert";
            case "distilbert" -> "DistilBert";
            case "roberta" -> "Roberta";
            case "xlm-roberta" -> "XLMRoberta";
            case "electra" -> "Electra";
            case "deberta-v2" -> "DebertaV2";
            case "mpnet" -> "MPNet";
            case "albert" -> "Albert";
            default -> throw new IllegalStateException(encoder.modelType());
        };
        return base + (isClassifier() ? "ForSequenceClassification" : "Model");
    }

    /** True when the head is exactly the one transformers builds for this architecture. */
    public boolean hasStandardHead() {
        return head != null && head.equals(HeadConfig.standard(encoder));
    }

    // ---------------------------------------------------------------------------------------------

    public static ModelConfig read(Path modelDir) {
        return readFile(modelDir.resolve(FILE));
    }

    /** Reads a config saved under another name (an adapter directory keeps its classifier's config so). */
    public static ModelConfig readFile(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": not found. A model directory needs config.json, model.safetensors"
                    + " and tokenizer.json (the Hugging Face layout).");
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot be read (" + e.getMessage() + ")", e);
        }
        return parse(text, file.toString());
    }

    public static ModelConfig parse(String text, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(where + ": not valid JSON at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + " (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(where + ": expected a JSON object");
        }
        ObjectNode node = (ObjectNode) root;
        String modelType = modelType(node, where);
        EncoderConfig enc = switch (modelType) {
            case "bert", "roberta", "xlm-roberta" -> BertConfig.read(node, where, modelType);
            case "electra" -> ElectraConfig.read(node, where);
            case "distilbert" -> DistilBertConfig.read(node, where);
            case "deberta-v2" -> DebertaV2Config.read(node, where);
            case "mpnet" -> MPNetConfig.read(node, where);
            case "albert" -> AlbertConfig.read(node, where);
            default -> throw new IllegalStateException();
        };
        List<String> labels = readLabels(node, where);
        JsonFields f = new JsonFields(node, where);
        ProblemType problem = f.has("problem_type") ? ProblemType.parse(f.string("problem_type", null), where)
                : ProblemType.SINGLE_LABEL;
        ObjectNode ours = node.has(OURS) && node.get(OURS).isObject() ? (ObjectNode) node.get(OURS) : JSON.createObjectNode();
        boolean classifier = isClassifierConfig(node) || ours.has("head");
        HeadConfig head = null;
        if (classifier) {
            head = ours.has("head") && ours.get("head").isObject() ? HeadConfig.read((ObjectNode) ours.get("head"), where, enc)
                    : HeadConfig.standard(enc);
            if (labels.isEmpty()) {
                labels = List.of("LABEL_0", "LABEL_1"); // transformers' default num_labels = 2
            }
        }
        Double threshold = ours.has("decision_threshold") ? ours.get("decision_threshold").asDouble() : null;
        ObjectNode preprocessing = ours.has("preprocessing") && ours.get("preprocessing").isObject()
                ? (ObjectNode) ours.get("preprocessing") : null;
        Map<String, String> notes = new LinkedHashMap<>();
        if (ours.has("notes") && ours.get("notes").isObject()) {
            ours.get("notes").fields().forEachRemaining(e -> notes.put(e.getKey(), e.getValue().asText()));
        }
        try {
            return new ModelConfig(enc, labels, problem, head, threshold, notes, preprocessing, node);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where + ": " + e.getMessage());
        }
    }

    private static String modelType(ObjectNode node, String where) {
        JsonNode mt = node.get("model_type");
        String type = mt != null && mt.isTextual() ? mt.asText() : null;
        if (type == null && node.has("architectures") && node.get("architectures").isArray()
                && node.get("architectures").size() > 0) {
            String arch = node.get("architectures").get(0).asText().toLowerCase(java.util.Locale.ROOT);
            type = arch.startsWith("distilbert") ? "distilbert" : arch.startsWith("roberta") ? "roberta"
                    : arch.startsWith("bert") ? "bert" : arch.startsWith("xlmroberta") ? "xlm-roberta"
                    : arch.startsWith("electra") ? "electra" : arch.startsWith("mpnet") ? "mpnet"
                    : arch.startsWith("albert") ? "albert" : null;
        }
        if (type == null) {
            throw new CheckpointException(where + ": no \"model_type\" field. Add one of: "
                    + String.join(", ", new java.util.TreeSet<>(SUPPORTED_MODEL_TYPES)) + ".");
        }
        if (!SUPPORTED_MODEL_TYPES.contains(type)) {
            throw new CheckpointException(where + ": model_type \"" + type + "\" is not supported. Supported model types: "
                    + String.join(", ", new java.util.TreeSet<>(SUPPORTED_MODEL_TYPES))
                    + " (and checkpoints of those, such as MiniLM, BGE and sentence-transformers models).");
        }
        return type;
    }

    private static boolean isClassifierConfig(ObjectNode node) {
        JsonNode arch = node.get("architectures");
        if (arch != null && arch.isArray()) {
            for (JsonNode a : arch) {
                if (a.asText().endsWith("ForSequenceClassification")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static List<String> readLabels(ObjectNode node, String where) {
        JsonNode id2label = node.get("id2label");
        if (id2label == null || !id2label.isObject() || id2label.isEmpty()) {
            JsonNode n = node.get("num_labels");
            if (n != null && n.canConvertToInt() && n.asInt() > 0) {
                List<String> l = new ArrayList<>();
                for (int i = 0; i < n.asInt(); i++) {
                    l.add("LABEL_" + i);
                }
                return l;
            }
            return List.of();
        }
        TreeMap<Integer, String> byId = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = id2label.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            try {
                byId.put(Integer.parseInt(e.getKey()), e.getValue().asText());
            } catch (NumberFormatException ex) {
                throw new CheckpointException(where + ": id2label key \"" + e.getKey() + "\" is not an integer id");
            }
        }
        if (byId.firstKey() != 0 || byId.lastKey() != byId.size() - 1) {
            throw new CheckpointException(where + ": id2label ids must be 0.." + (byId.size() - 1) + ", found " + byId.keySet());
        }
        List<String> labels = new ArrayList<>(byId.values());
        if (Set.copyOf(labels).size() != labels.size()) {
            throw new CheckpointException(where + ": id2label has the same label name twice: " + labels);
        }
        return labels;
    }

    /** The config.json text: the original fields, then ours written over them. */
    public String toJson() {
        ObjectNode n = extra.deepCopy();
        n.remove(List.of("num_labels", "_num_labels", "id2label", "label2id", "problem_type", OURS));
        encoder.writeTo(n);
        n.putArray("architectures").add(architecture());
        if (isClassifier()) {
            ObjectNode id2label = n.putObject("id2label");
            ObjectNode label2id = n.putObject("label2id");
            for (int i = 0; i < labels.size(); i++) {
                id2label.put(Integer.toString(i), labels.get(i));
                label2id.put(labels.get(i), i);
            }
            n.put("problem_type", problemType.id());
        }
        n.put("torch_dtype", "float32");
        ObjectNode ours = JSON.createObjectNode();
        if (head != null) {
            head.writeTo(ours.putObject("head"));
            if (!hasStandardHead()) {
                ours.put("head_note", "This head differs from " + architecture() + "'s own; transformers loads the encoder"
                        + " but not this head. Use finetune4j to run it.");
            }
        }
        if (decisionThreshold != null) {
            ours.put("decision_threshold", decisionThreshold);
        }
        if (preprocessing != null) {
            ours.set("preprocessing", preprocessing.deepCopy());
        }
        if (!notes.isEmpty()) {
            ObjectNode nn = ours.putObject("notes");
            new TreeMap<>(notes).forEach(nn::put);
        }
        if (!ours.isEmpty()) {
            n.set(OURS, ours);
        }
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path modelDir) {
        AtomicFiles.writeString(modelDir.resolve(FILE), toJson());
    }
}
