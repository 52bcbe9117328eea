package org.finetune4j.onnx;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.finetune4j.config.BertConfig;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.DType;
import org.finetune4j.io.HostTensor;
import org.finetune4j.onnx.OnnxModel.Node;
import org.finetune4j.onnx.OnnxModel.Tensor;

/**
 * Reads a BERT encoder out of an ONNX export: maps its initializers to the state-dict keys of
 * transformers' BertModel and infers the config from shapes and the graph.
 *
 * <p>torch.onnx names an initializer after its module when the weight is used as it is (embeddings,
 * LayerNorm, biases), but a Linear weight becomes an anonymous MatMul operand such as
 * {@code onnx::MatMul_787}, stored {@code [in, out]} because the exporter folds the transpose of
 * {@code x W^T}. Such a weight is identified through the graph: its MatMul's output goes to an Add whose
 * other operand is the Linear's named bias ({@code encoder.layer.0.attention.self.query.bias}); it is
 * transposed back to torch.nn.Linear's {@code [out, in]}.
 */
public final class BertOnnxMapping {

    /**
     * The encoder read from the graph.
     *
     * @param weights every BertModel key, in checkpoint order, as float32 {@code [out, in]} for Linear weights
     * @param hasPooler whether the export includes BERT's pooler (pooler.dense.*)
     * @param transposed the keys whose tensors were stored {@code [in, out]} in the export and were transposed
     * @param findings how each inferred config field was found, for the import notes
     */
    public record Result(BertConfig config, Map<String, HostTensor> weights, boolean hasPooler, List<String> transposed,
            List<String> findings) {
        public Result {
            weights = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(weights));
            transposed = List.copyOf(transposed);
            findings = List.copyOf(findings);
        }
    }

    /** The per-layer keys of BertLayer, after "encoder.layer.N.". */
    static final List<String> LAYER_KEYS = List.of(
            "attention.self.query.weight", "attention.self.query.bias",
            "attention.self.key.weight", "attention.self.key.bias",
            "attention.self.value.weight", "attention.self.value.bias",
            "attention.output.dense.weight", "attention.output.dense.bias",
            "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
            "intermediate.dense.weight", "intermediate.dense.bias",
            "output.dense.weight", "output.dense.bias",
            "output.LayerNorm.weight", "output.LayerNorm.bias");

    private static final Pattern LAYER_KEY = Pattern.compile("encoder\\.layer\\.(\\d+)\\.(.+)");
    private static final List<String> EMBEDDING_KEYS = List.of("embeddings.word_embeddings.weight",
            "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias");
    private static final List<String> POOLER_KEYS = List.of("pooler.dense.weight", "pooler.dense.bias");
    /** BertEmbeddings' position_ids buffer: not a weight, but it must be 0..max-1 (checked below). */
    private static final String POSITION_IDS = "embeddings.position_ids";
    /** Not recorded in ONNX, so transformers' BertConfig defaults: hidden and attention dropout. */
    public static final double DEFAULT_DROPOUT = 0.1;
    /** Not recorded in ONNX, so transformers' BertConfig default: the std of newly initialised weights. */
    public static final double DEFAULT_INITIALIZER_RANGE = 0.02;

    private BertOnnxMapping() {
    }

    /**
     * Every key of a BertModel state dict with its shape, in the order transformers saves them.
     *
     * @param pooler whether pooler.dense.* is included
     */
    public static Map<String, long[]> expectedShapes(BertConfig c, boolean pooler) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (String key : keyNames(c.numLayers(), pooler)) {
            m.put(key, shapeOf(key, c));
        }
        return m;
    }

    private static List<String> keyNames(int numLayers, boolean pooler) {
        List<String> keys = new ArrayList<>(EMBEDDING_KEYS);
        for (int l = 0; l < numLayers; l++) {
            for (String k : LAYER_KEYS) {
                keys.add("encoder.layer." + l + "." + k);
            }
        }
        if (pooler) {
            keys.addAll(POOLER_KEYS);
        }
        return keys;
    }

    /** A key's shape: embedding tables (rows, H), Linear weights (out, in), biases and LayerNorm (out). */
    private static long[] shapeOf(String key, BertConfig c) {
        long h = c.hiddenSize();
        long i = c.intermediateSize();
        return switch (key) {
            case "embeddings.word_embeddings.weight" -> new long[] {c.vocabSize(), h};
            case "embeddings.position_embeddings.weight" -> new long[] {c.maxPositionEmbeddings(), h};
            case "embeddings.token_type_embeddings.weight" -> new long[] {c.typeVocabSize(), h};
            default -> {
                String k = key.replaceFirst("^encoder\\.layer\\.\\d+\\.", "");
                boolean matrix = k.endsWith(".weight") && !k.contains("LayerNorm");
                if (k.startsWith("intermediate.dense.")) {
                    yield matrix ? new long[] {i, h} : new long[] {i}; // H -> I
                }
                if (k.startsWith("output.dense.")) {
                    yield matrix ? new long[] {h, i} : new long[] {h}; // I -> H
                }
                yield matrix ? new long[] {h, h} : new long[] {h}; // H -> H: attention, pooler
            }
        };
    }

    /** A BertModel key, whichever layer: the keys that named initializers may carry. */
    static boolean isBertKey(String key) {
        if (EMBEDDING_KEYS.contains(key) || POOLER_KEYS.contains(key)) {
            return true;
        }
        Matcher m = LAYER_KEY.matcher(key);
        return m.matches() && LAYER_KEYS.contains(m.group(2));
    }

    /** The key of a Linear's weight given its bias key, or null when the bias is not a Linear's. */
    static String linearWeightKey(String biasKey) {
        if (!isBertKey(biasKey) || !biasKey.endsWith(".bias") || biasKey.contains("LayerNorm")) {
            return null;
        }
        return biasKey.substring(0, biasKey.length() - "bias".length()) + "weight";
    }

    /** transformers' BertForSequenceClassification and friends prefix the encoder with "bert.". */
    static String stripBase(String name) {
        return name.startsWith("bert.") ? name.substring("bert.".length()) : name;
    }

    // ---------------------------------------------------------------------------------------------

    /** One initializer matched to a key. */
    private record Match(String key, String initializer, boolean transpose, String outputValue) {
    }

    /**
     * Maps the graph and infers the config.
     *
     * @param padTokenId the tokenizer's [PAD] id (ONNX does not record it)
     * @throws CheckpointException naming the file when a key is missing, an initializer cannot be mapped,
     *     a shape disagrees, or the graph is not a BERT encoder
     */
    public static Result read(OnnxModel model, int padTokenId) {
        String where = model.source();
        Map<String, List<Match>> byKey = new LinkedHashMap<>();
        List<String> unmapped = new ArrayList<>();
        Tensor positionIds = null;
        for (Tensor t : model.initializers().values()) {
            String key = stripBase(t.name());
            if (key.equals(POSITION_IDS)) {
                positionIds = t;
                continue;
            }
            if (!OnnxModel.isFloatingPoint(t.dataType()) || t.numel() <= 1) {
                continue; // shape and index constants, scalars: not weights
            }
            Match m = isBertKey(key) ? named(model, t.name(), key) : anonymous(model, t.name());
            if (m == null) {
                unmapped.add(t + " (" + describeUse(model, t.name()) + ")");
            } else {
                byKey.computeIfAbsent(m.key(), k -> new ArrayList<>()).add(m);
            }
        }

        // Completeness by name: the layer count is what the keys say, or the number of attention softmaxes.
        int keyLayers = byKey.keySet().stream().map(LAYER_KEY::matcher).filter(Matcher::matches)
                .mapToInt(m -> Integer.parseInt(m.group(1)) + 1).max().orElse(0);
        int softmaxes = (int) model.nodes().stream().filter(n -> n.opType().equals("Softmax")).count();
        int numLayers = Math.max(keyLayers, softmaxes);
        boolean pooler = byKey.keySet().stream().anyMatch(POOLER_KEYS::contains);
        Set<String> expected = new LinkedHashSet<>(keyNames(numLayers, pooler));
        List<String> missing = expected.stream().filter(k -> !byKey.containsKey(k)).toList();
        List<String> twice = byKey.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .map(e -> e.getKey() + " <- " + e.getValue().stream().map(Match::initializer).toList()).toList();
        List<String> problems = new ArrayList<>();
        if (!missing.isEmpty()) {
            problems.add("missing " + missing.size() + " BertModel weights: " + abbreviate(missing));
        }
        if (!twice.isEmpty()) {
            problems.add("weights claimed by more than one initializer: " + abbreviate(twice));
        }
        if (!unmapped.isEmpty()) {
            problems.add("initializers that map to no BertModel weight: " + abbreviate(unmapped));
        }
        if (keyLayers != softmaxes && missing.isEmpty()) {
            problems.add("the weights describe " + keyLayers + " layers but the graph has " + softmaxes + " attention softmaxes");
        }
        if (!problems.isEmpty()) {
            throw new CheckpointException(where + ": cannot import as a BERT encoder: " + String.join("; ", problems)
                    + ". Only exports of transformers' BertModel (or a model whose encoder is one) are supported;"
                    + " export the model with torch.onnx / optimum and try again.");
        }

        Map<String, HostTensor> weights = new LinkedHashMap<>();
        List<String> transposed = new ArrayList<>();
        for (String key : expected) {
            Match m = byKey.get(key).get(0);
            HostTensor value = asFloat32(model.initializers().get(m.initializer()).toHost());
            if (m.transpose()) {
                value = transpose(value, where + ": initializer \"" + m.initializer() + "\"");
                transposed.add(key);
            }
            weights.put(key, value);
        }

        // The config: sizes from shapes, the rest from the graph.
        List<String> findings = new ArrayList<>();
        long[] word = weights.get("embeddings.word_embeddings.weight").shape();
        int vocab = dim(word, 0, where);
        int hidden = dim(word, 1, where);
        int maxPositions = dim(weights.get("embeddings.position_embeddings.weight").shape(), 0, where);
        int typeVocab = dim(weights.get("embeddings.token_type_embeddings.weight").shape(), 0, where);
        int intermediate = dim(weights.get("encoder.layer.0.intermediate.dense.weight").shape(), 0, where);
        int heads = numHeads(model, byKey, numLayers, hidden, findings);
        double eps = layerNormEps(model, findings);
        String act = activation(model, byKey, numLayers, findings);
        checkPositions(model, positionIds, findings);
        BertConfig config;
        try {
            config = new BertConfig("bert", vocab, hidden, numLayers, heads, intermediate, act, DEFAULT_DROPOUT,
                    DEFAULT_DROPOUT, maxPositions, typeVocab, DEFAULT_INITIALIZER_RANGE, eps, padTokenId, null);
        } catch (RuntimeException e) {
            throw new CheckpointException(where + ": the config inferred from the graph is invalid: " + e.getMessage(), e);
        }

        List<String> mismatched = new ArrayList<>();
        expectedShapes(config, pooler).forEach((k, shape) -> {
            long[] actual = weights.get(k).shape();
            if (!Arrays.equals(actual, shape)) {
                Match m = byKey.get(k).get(0);
                mismatched.add(k + " (from " + m.initializer() + (m.transpose() ? ", transposed" : "") + ") is "
                        + Arrays.toString(actual) + ", expected " + Arrays.toString(shape));
            }
        });
        if (!mismatched.isEmpty()) {
            throw new CheckpointException(where + ": the weight shapes are not those of one BERT encoder (hidden " + hidden
                    + ", intermediate " + intermediate + ", vocab " + vocab + "): " + abbreviate(mismatched)
                    + ". The export is not a BertModel, or its graph was rewritten; export it again without optimisation.");
        }
        return new Result(config, weights, pooler, transposed, findings);
    }

    // ---------------------------------------------------------------------------------------------
    // Weights

    /**
     * A named initializer. Embeddings and LayerNorm parameters are used as they are stored. A Linear weight
     * that kept its name says its layout by how the graph uses it: as the right operand of a MatMul it is
     * [in, out] and is transposed; read through a Transpose node it is already [out, in]. Any other use
     * (Gemm, for instance) is refused (null) rather than guessed.
     */
    private static Match named(OnnxModel model, String name, String key) {
        boolean linearWeight = key.endsWith(".weight") && linearWeightKey(key.replaceAll("weight$", "bias")) != null;
        if (!linearWeight) {
            return new Match(key, name, false, null);
        }
        Match viaMatMul = anonymous(model, name);
        if (viaMatMul != null) {
            return viaMatMul.key().equals(key) ? viaMatMul : null; // null: its name and its bias disagree
        }
        List<Node> users = model.consumers(name);
        boolean throughTranspose = !users.isEmpty() && users.stream().allMatch(n -> n.opType().equals("Transpose"));
        return throughTranspose ? new Match(key, name, false, null) : null;
    }

    /**
     * An initializer used as the right operand of a MatMul (stored [in, out]): finds its Linear by the
     * named bias added to the MatMul's output. Null when there is no such bias, or more than one.
     */
    private static Match anonymous(OnnxModel model, String name) {
        Set<Match> found = new LinkedHashSet<>();
        for (Node n : model.consumers(name)) {
            if (n.opType().equals("MatMul") && n.input(1).equals(name)) {
                addBiasMatch(model, name, n.outputs().get(0), true, found);
            }
        }
        return found.size() == 1 ? found.iterator().next() : null;
    }

    private static void addBiasMatch(OnnxModel model, String weight, String matmulOut, boolean transpose, Set<Match> found) {
        for (Node add : model.consumers(matmulOut)) {
            if (!add.opType().equals("Add") || add.inputs().size() != 2) {
                continue;
            }
            String other = add.input(0).equals(matmulOut) ? add.input(1) : add.input(0);
            if (!model.initializers().containsKey(other)) {
                continue;
            }
            String weightKey = linearWeightKey(stripBase(other));
            if (weightKey != null) {
                found.add(new Match(weightKey, weight, transpose, add.outputs().get(0)));
            }
        }
    }

    /** What an unmappable initializer feeds, so the error says where the graph differs from BERT's. */
    private static String describeUse(OnnxModel model, String name) {
        List<Node> users = model.consumers(name);
        if (users.isEmpty()) {
            return "used by no node";
        }
        Node first = users.get(0);
        String tail = "";
        if (first.opType().equals("MatMul")) {
            List<String> next = model.consumers(first.outputs().get(0)).stream().map(Node::opType).toList();
            tail = ", whose output goes to " + next + " but to no Add with a named Linear bias";
        }
        return "feeds " + first.opType() + (users.size() > 1 ? " and " + (users.size() - 1) + " more" : "") + tail;
    }

    static HostTensor asFloat32(HostTensor t) {
        return t.dtype() == DType.F32 ? t : HostTensor.ofFloats(t.toFloats(), t.shape());
    }

    /** [rows, cols] -> [cols, rows], float32. */
    static HostTensor transpose(HostTensor t, String where) {
        long[] s = t.shape();
        if (s.length != 2) {
            throw new CheckpointException(where + " is used as a Linear weight but has shape " + Arrays.toString(s)
                    + ", not a matrix");
        }
        int rows = Math.toIntExact(s[0]);
        int cols = Math.toIntExact(s[1]);
        FloatBuffer src = t.toFloatBuffer();
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c * rows + r] = src.get(r * cols + c);
            }
        }
        return HostTensor.ofFloats(out, cols, rows);
    }

    private static int dim(long[] shape, int i, String where) {
        if (shape.length <= i) {
            throw new CheckpointException(where + ": a weight has shape " + Arrays.toString(shape) + " where a matrix was expected");
        }
        return Math.toIntExact(shape[i]);
    }

    // ---------------------------------------------------------------------------------------------
    // Config fields that only the graph knows

    /**
     * The number of heads, from where the graph splits the hidden size: the Reshape of the query, key and
     * value projections to (B, T, nh, hs), and the scale 1/sqrt(hs) of the attention scores
     * (Vaswani et al. 2017, eq. 1). Both must agree when both are present.
     */
    private static int numHeads(OnnxModel model, Map<String, List<Match>> byKey, int numLayers, int hidden,
            List<String> findings) {
        String where = model.source();
        Set<Long> fromReshape = new TreeSet<>();
        for (int l = 0; l < numLayers; l++) {
            for (String proj : List.of("query", "key", "value")) {
                Match m = byKey.get("encoder.layer." + l + ".attention.self." + proj + ".weight").get(0);
                if (m.outputValue() == null) {
                    continue;
                }
                for (Node r : model.consumers(m.outputValue())) {
                    if (r.opType().equals("Reshape") && r.input(0).equals(m.outputValue())) {
                        long[] headsAndSize = lastTwoConstants(model, r.input(1));
                        if (headsAndSize != null) {
                            long nh = headsAndSize[0];
                            long hs = headsAndSize[1];
                            nh = nh == -1 && hs > 0 ? hidden / hs : nh;
                            hs = hs == -1 && nh > 0 ? hidden / nh : hs;
                            if (nh > 0 && nh * hs == hidden) {
                                fromReshape.add(nh);
                            }
                        }
                    }
                }
            }
        }
        Set<Long> fromScale = new TreeSet<>();
        for (Node softmax : model.nodes()) {
            if (softmax.opType().equals("Softmax")) {
                Long headSize = scaledHeadSize(model, softmax.input(0), 3);
                if (headSize != null && headSize > 0 && hidden % headSize == 0) {
                    fromScale.add(hidden / headSize);
                }
            }
        }
        if (fromReshape.size() > 1 || fromScale.size() > 1
                || !fromReshape.isEmpty() && !fromScale.isEmpty() && !fromReshape.equals(fromScale)) {
            throw new CheckpointException(where + ": the graph gives inconsistent numbers of attention heads (from the"
                    + " Reshape of query/key/value: " + fromReshape + "; from the 1/sqrt(head size) scale: " + fromScale
                    + "). The export is not a standard BERT encoder.");
        }
        if (!fromReshape.isEmpty()) {
            long nh = fromReshape.iterator().next();
            findings.add("num_attention_heads " + nh + " from the Reshape of query/key/value to (B, T, " + nh + ", "
                    + hidden / nh + ")" + (fromScale.isEmpty() ? "" : ", confirmed by the 1/sqrt(" + hidden / nh + ") score scale"));
            return Math.toIntExact(nh);
        }
        if (!fromScale.isEmpty()) {
            long nh = fromScale.iterator().next();
            findings.add("num_attention_heads " + nh + " from the attention score scale 1/sqrt(" + hidden / nh + ")");
            return Math.toIntExact(nh);
        }
        throw new CheckpointException(where + ": cannot find the number of attention heads: no Reshape of the query,"
                + " key or value projection to (B, T, heads, head_size) with constant sizes, and no constant 1/sqrt(head_size)"
                + " scale before a Softmax. Export the model with static head sizes (torch.onnx does by default).");
    }

    /** The last two entries of a Reshape target: a constant tensor, or a Concat whose last two inputs are constants. */
    private static long[] lastTwoConstants(OnnxModel model, String shapeValue) {
        Tensor c = model.constant(shapeValue);
        if (c != null && OnnxModel.isInteger(c.dataType())) {
            long[] v = c.longs();
            return v.length >= 2 ? new long[] {v[v.length - 2], v[v.length - 1]} : null;
        }
        Node concat = model.producer(shapeValue);
        if (concat == null || !concat.opType().equals("Concat") || concat.inputs().size() < 2) {
            return null;
        }
        int n = concat.inputs().size();
        Tensor a = model.constant(concat.input(n - 2));
        Tensor b = model.constant(concat.input(n - 1));
        if (a == null || b == null || a.numel() != 1 || b.numel() != 1 || !OnnxModel.isInteger(a.dataType())
                || !OnnxModel.isInteger(b.dataType())) {
            return null;
        }
        return new long[] {a.longs()[0], b.longs()[0]};
    }

    /**
     * Walks back from a Softmax input through the additive mask to the score scaling: Div(QK^T, sqrt(hs))
     * or Mul(QK^T, 1/sqrt(hs)). Returns hs, or null when the graph scales elsewhere.
     */
    private static Long scaledHeadSize(OnnxModel model, String value, int depth) {
        Node n = model.producer(value);
        if (n == null || depth == 0) {
            return null;
        }
        switch (n.opType()) {
            case "Add" -> {
                for (String in : n.inputs()) {
                    Long hs = scaledHeadSize(model, in, depth - 1);
                    if (hs != null) {
                        return hs;
                    }
                }
                return null;
            }
            case "Div", "Mul" -> {
                Tensor c = model.constant(n.input(1));
                Node other = model.producer(n.input(0));
                if (c == null || c.numel() != 1 || other == null || !other.opType().equals("MatMul")
                        || !OnnxModel.isFloatingPoint(c.dataType())) {
                    return null;
                }
                double s = c.floats()[0];
                double hs = n.opType().equals("Div") ? s * s : 1 / (s * s);
                long rounded = Math.round(hs);
                return Math.abs(hs - rounded) < 1e-3 * Math.max(1, hs) ? rounded : null;
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * LayerNorm's epsilon: the epsilon attribute of LayerNormalization nodes (opset 17+), or, where the
     * exporter decomposed LayerNorm, the constant in Sqrt(ReduceMean((x - mean)^2) + eps).
     */
    private static double layerNormEps(OnnxModel model, List<String> findings) {
        Set<Float> values = new TreeSet<>();
        String how = null;
        for (Node n : model.nodes()) {
            if (n.opType().equals("LayerNormalization")) {
                OnnxModel.Attribute e = n.attribute("epsilon");
                values.add(e == null ? 1e-5f : e.f()); // the ONNX default
                how = "the epsilon of the LayerNormalization nodes";
            } else if (n.opType().equals("Sqrt")) {
                Node add = model.producer(n.input(0));
                if (add != null && add.opType().equals("Add")) {
                    for (int i = 0; i < 2; i++) {
                        Node mean = model.producer(add.input(i));
                        Tensor c = model.constant(add.input(1 - i));
                        if (mean != null && mean.opType().equals("ReduceMean") && c != null && c.numel() == 1
                                && OnnxModel.isFloatingPoint(c.dataType())) {
                            values.add(c.floats()[0]);
                            how = "the constant added to the variance in the decomposed LayerNorms";
                        }
                    }
                }
            }
        }
        if (values.size() != 1) {
            throw new CheckpointException(model.source() + ": " + (values.isEmpty()
                    ? "cannot find LayerNorm's epsilon: the graph has no LayerNormalization node and no Sqrt(variance + eps)"
                    : "the LayerNorms use different epsilons " + values + ", which BertConfig cannot express")
                    + ". The export is not a standard BERT encoder.");
        }
        float f = values.iterator().next();
        // The graph holds float32; the config holds the decimal the model was trained with (1e-12, not 9.99999996e-13).
        double eps = Double.parseDouble(Float.toString(f));
        findings.add("layer_norm_eps " + eps + " from " + how);
        return eps;
    }

    /**
     * hidden_act, from the ops between the intermediate dense layer and the output dense layer:
     * Erf is GELU's exact form (transformers' "gelu"), Tanh its tanh approximation ("gelu_new").
     */
    private static String activation(OnnxModel model, Map<String, List<Match>> byKey, int numLayers, List<String> findings) {
        Set<String> acts = new TreeSet<>();
        Set<String> ops = new TreeSet<>();
        for (int l = 0; l < numLayers; l++) {
            String start = byKey.get("encoder.layer." + l + ".intermediate.dense.weight").get(0).outputValue();
            if (start == null) {
                continue;
            }
            Set<String> seen = new TreeSet<>();
            collectOpsUntilMatMul(model, start, seen, 24);
            ops.addAll(seen);
            String act;
            if (seen.contains("Gelu")) {
                Node gelu = model.consumers(start).stream().filter(n -> n.opType().equals("Gelu")).findFirst().orElse(null);
                OnnxModel.Attribute approx = gelu == null ? null : gelu.attribute("approximate");
                act = approx != null && "tanh".equals(approx.s()) ? "gelu_new" : "gelu";
            } else if (seen.contains("Erf")) {
                act = "gelu";
            } else if (seen.contains("Tanh")) {
                act = "gelu_new";
            } else if (seen.contains("Relu")) {
                act = "relu";
            } else {
                act = null;
            }
            acts.add(act == null ? "unknown" : act);
        }
        if (acts.size() != 1 || acts.contains("unknown")) {
            throw new CheckpointException(model.source() + ": cannot tell the feed-forward activation from the ops "
                    + ops + " after the intermediate dense layers (found " + acts + "). Supported: GELU (Erf or Gelu), its"
                    + " tanh approximation, ReLU.");
        }
        String act = acts.iterator().next();
        findings.add("hidden_act " + act + " from the " + (ops.contains("Gelu") ? "Gelu" : ops.contains("Erf") ? "Erf"
                : ops.contains("Tanh") ? "Tanh" : "Relu") + " op after the intermediate dense layers");
        return act;
    }

    private static void collectOpsUntilMatMul(OnnxModel model, String value, Set<String> seen, int budget) {
        for (Node n : model.consumers(value)) {
            if (budget <= 0 || n.opType().equals("MatMul") || n.opType().equals("Gemm")) {
                continue;
            }
            seen.add(n.opType());
            for (String out : n.outputs()) {
                collectOpsUntilMatMul(model, out, seen, budget - 1);
            }
        }
    }

    /**
     * Our encoder uses positions 0..T-1, as BertEmbeddings does with its position_ids buffer. The graph
     * must do the same: the position table is indexed by a slice of a constant 0..max-1 (or by a graph
     * input). Positions computed from the ids, as RoBERTa does, would be imported wrongly, so they are refused.
     */
    private static void checkPositions(OnnxModel model, Tensor positionIdsBuffer, List<String> findings) {
        String where = model.source();
        if (positionIdsBuffer != null && !isArange(positionIdsBuffer)) {
            throw new CheckpointException(where + ": the position_ids buffer is not 0, 1, 2, ...; only BERT's absolute"
                    + " positions can be imported.");
        }
        String table = model.initializers().keySet().stream()
                .filter(n -> stripBase(n).equals("embeddings.position_embeddings.weight")).findFirst().orElseThrow();
        List<String> sources = new ArrayList<>();
        for (Node gather : model.consumers(table)) {
            if (!gather.opType().equals("Gather") || !gather.input(0).equals(table)) {
                continue;
            }
            String ids = gather.input(1);
            if (model.inputNames().contains(ids)) {
                sources.add("graph input " + ids);
                continue;
            }
            Tensor direct = model.constant(ids);
            Node slice = model.producer(ids);
            boolean ok;
            Tensor data = null;
            if (direct != null) {
                ok = isArange(direct);
                data = direct;
            } else if (slice != null && slice.opType().equals("Slice")) {
                data = model.constant(slice.input(0));
                Tensor starts = slice.inputs().size() > 1 ? model.constant(slice.input(1)) : null;
                OnnxModel.Attribute startsAttr = slice.attribute("starts"); // opset < 10
                long start = starts != null ? starts.longs()[0] : startsAttr != null && startsAttr.ints().length > 0
                        ? startsAttr.ints()[0] : -1;
                Tensor steps = slice.inputs().size() > 4 ? model.constant(slice.input(4)) : null;
                ok = data != null && isArange(data) && start == 0 && (steps == null || steps.longs()[0] == 1);
            } else {
                ok = false;
            }
            if (!ok) {
                throw new CheckpointException(where + ": the position embeddings are indexed by " + (slice == null ? ids
                        : slice.opType() + " output " + ids) + ", not by positions 0..T-1 (a RoBERTa-style export, or"
                        + " position ids computed from the input?). Only BERT's absolute positions can be imported.");
            }
            sources.add((direct != null ? "the constant positions 0.." : "a slice of the constant positions 0..")
                    + (data.numel() - 1));
        }
        if (sources.isEmpty()) {
            throw new CheckpointException(where + ": the position embedding table is not read by any Gather node;"
                    + " the graph is not a BERT encoder.");
        }
        findings.add("positions: the position table is indexed by " + String.join(", ", new TreeSet<>(sources)));
    }

    private static boolean isArange(Tensor t) {
        if (!OnnxModel.isInteger(t.dataType())) {
            return false;
        }
        long[] v = t.longs();
        for (int i = 0; i < v.length; i++) {
            if (v[i] != i) {
                return false;
            }
        }
        return true;
    }

    private static String abbreviate(List<String> items) {
        int show = 12;
        return items.size() <= show ? String.join(", ", items)
                : String.join(", ", items.subList(0, show)) + " and " + (items.size() - show) + " more";
    }
}
