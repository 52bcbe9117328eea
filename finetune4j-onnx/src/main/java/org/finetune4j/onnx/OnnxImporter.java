package org.finetune4j.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.io.WeightFiles;
import org.finetune4j.onnx.StagedDirectory.IfExists;
import org.finetune4j.text.TextTokenizer;

/**
 * Imports a BERT encoder exported to ONNX into a Hugging Face model directory: {@code config.json},
 * {@code model.safetensors}, {@code tokenizer.json}, {@code tokenizer_config.json},
 * {@code special_tokens_map.json} and a {@code README.md} saying where it came from. The directory is
 * built beside the target and renamed into place, so an interrupted import leaves nothing half-written.
 */
public final class OnnxImporter {
    /** Recorded in every import; raise it when the conversion changes so that cached imports are redone. */
    public static final String IMPORTER_VERSION = "finetune4j-onnx-import/1";
    public static final String README = "README.md";
    private static final ObjectMapper JSON = new ObjectMapper();

    // config.json notes (under finetune4j.notes)
    public static final String NOTE_SOURCE = "import_source";
    public static final String NOTE_SHA256 = "import_sha256";
    public static final String NOTE_IMPORTER = "import_importer";

    private OnnxImporter() {
    }

    /**
     * Where an export came from, written into the notes of config.json and into README.md.
     *
     * @param source e.g. "Maven artifact g:a:v, resource x.onnx" or "file /path/model.onnx"
     * @param sha256 of the .onnx bytes
     * @param upstream the model it was exported from (e.g. "sentence-transformers/all-MiniLM-L6-v2"), or null
     * @param license what is known of the model's license, or null
     * @param sentenceEmbedding how the model makes a sentence embedding (e.g. "mean pooling, then L2
     *     normalisation"), or null
     * @param sourceReadme the README shipped beside the export, quoted in README.md, or null
     */
    public record Origin(String source, String sha256, String upstream, String license, String sentenceEmbedding,
            String sourceReadme) {
        public static Origin ofFile(Path onnx, String sha256) {
            return new Origin("file " + onnx.toAbsolutePath().normalize(), sha256, null, null, null, null);
        }
    }

    /** What an import wrote. */
    public record Imported(Path dir, BertConfig config, boolean hasPooler, List<String> files, ModelConfig modelConfig) {
        public Imported {
            files = List.copyOf(files);
        }
    }

    /**
     * Imports {@code onnx} with its {@code tokenizer.json} into {@code output}.
     *
     * @param replace replace an existing non-empty {@code output}; when false such a directory is an error
     */
    public static Imported importFiles(Path onnx, Path tokenizerJson, Path output, boolean replace) {
        if (!replace && isNonEmptyDirectory(output)) {
            throw new CheckpointException(output + ": already exists and is not empty; choose another output directory"
                    + " or allow replacing it.");
        }
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw new CheckpointException(output + ": exists and is not a directory; choose another output directory.");
        }
        byte[] tokenizer = readFile(tokenizerJson, "tokenizer.json");
        byte[] bytes = readFile(onnx, "ONNX export");
        OnnxModel model = OnnxModel.read(bytes, onnx.toString());
        Origin origin = Origin.ofFile(onnx, sha256(bytes));
        Imported imported = write(model, tokenizer, origin, output, replace ? IfExists.REPLACE : IfExists.KEEP);
        if (imported == null) {
            throw new CheckpointException(output + ": appeared while the import was running (another process?);"
                    + " it was left as it is. Run again with another output directory or allow replacing it.");
        }
        return imported;
    }

    /**
     * Converts {@code model} and writes the directory atomically.
     *
     * @return what was written, or null when {@code ifExists} is KEEP and {@code target} already existed
     */
    static Imported write(OnnxModel model, byte[] tokenizerJson, Origin origin, Path target, IfExists ifExists) {
        TokenizerFacts tok = TokenizerFacts.parse(tokenizerJson, model.source() + " (its tokenizer.json)");
        BertOnnxMapping.Result mapped = BertOnnxMapping.read(model, tok.padId());
        BertConfig config = mapped.config();
        if (tok.vocabSize() > config.vocabSize()) {
            throw new CheckpointException(model.source() + ": the tokenizer has " + tok.vocabSize() + " token ids but the"
                    + " model's vocabulary has " + config.vocabSize() + " rows; the tokenizer does not belong to this model.");
        }
        ModelConfig modelConfig = modelConfig(model, mapped, origin);
        try (StagedDirectory stage = StagedDirectory.create(target)) {
            Path dir = stage.path();
            WeightFiles.write(dir, mapped.weights(), WeightFiles.DEFAULT_MAX_SHARD_BYTES);
            modelConfig.write(dir);
            AtomicFiles.write(dir.resolve(TextTokenizer.TOKENIZER_JSON), out -> out.write(tokenizerJson));
            AtomicFiles.writeString(dir.resolve(TextTokenizer.TOKENIZER_CONFIG), tok.tokenizerConfig(config.maxPositionEmbeddings()));
            AtomicFiles.writeString(dir.resolve(TextTokenizer.SPECIAL_TOKENS_MAP), tok.specialTokensMap());
            AtomicFiles.writeString(dir.resolve(README), readme(model, mapped, origin));
            List<String> problems = problems(dir);
            if (!problems.isEmpty()) {
                throw new IllegalStateException("the imported directory fails its own check: " + problems);
            }
            List<String> files = list(dir);
            if (!stage.publish(ifExists)) {
                return null;
            }
            return new Imported(stage.target(), config, mapped.hasPooler(), files, modelConfig);
        }
    }

    static ModelConfig modelConfig(OnnxModel model, BertOnnxMapping.Result mapped, Origin origin) {
        BertConfig c = mapped.config();
        ModelConfig mc = ModelConfig.encoderOnly(c)
                .withNote(NOTE_SOURCE, origin.source())
                .withNote(NOTE_SHA256, origin.sha256())
                .withNote(NOTE_IMPORTER, IMPORTER_VERSION)
                .withNote("import_producer", model.producer() + ", ONNX opset " + model.opsetVersion())
                .withNote("import_weights", mapped.transposed().size() + " Linear weights were stored [in, out] as MatMul"
                        + " operands in the export and were transposed to torch.nn.Linear's [out, in]; the other weights"
                        + " were copied as they are.")
                .withNote("import_config", "Read from the graph: " + String.join("; ", mapped.findings())
                        + ". Dropout (" + BertOnnxMapping.DEFAULT_DROPOUT + ") and initializer_range ("
                        + BertOnnxMapping.DEFAULT_INITIALIZER_RANGE + ") are BertConfig's defaults; ONNX does not record them.")
                .withNote("import_pooler", mapped.hasPooler() ? "The export includes BERT's pooler (pooler.dense.*)."
                        : "The export has no pooler (its graph ends at last_hidden_state), so pooler.dense.* is absent from"
                        + " model.safetensors; a loader that needs a pooler initialises it anew, and it must be trained"
                        + " before its output means anything.");
        if (origin.upstream() != null) {
            mc = mc.withNote("upstream_model", origin.upstream());
        }
        if (origin.sentenceEmbedding() != null) {
            mc = mc.withNote("sentence_embedding", origin.sentenceEmbedding());
        }
        return mc;
    }

    private static String readme(OnnxModel model, BertOnnxMapping.Result mapped, Origin origin) {
        BertConfig c = mapped.config();
        StringBuilder sb = new StringBuilder();
        String title = origin.upstream() != null ? origin.upstream() : "BERT encoder imported from ONNX";
        sb.append("# ").append(title).append("\n\n");
        sb.append("A BERT encoder (transformers' `BertModel` layout) imported by finetune4j from an ONNX export.\n\n");
        sb.append("- Source: ").append(origin.source()).append('\n');
        sb.append("- SHA-256 of the ONNX file: `").append(origin.sha256()).append("`\n");
        if (origin.upstream() != null) {
            sb.append("- Upstream model: https://huggingface.co/").append(origin.upstream()).append('\n');
        }
        sb.append("- Exported by: ").append(model.producer()).append(", ONNX opset ").append(model.opsetVersion()).append('\n');
        sb.append("- Architecture: ").append(c.numLayers()).append(" layers, hidden ").append(c.hiddenSize())
                .append(", ").append(c.numHeads()).append(" heads, intermediate ").append(c.intermediateSize())
                .append(", vocabulary ").append(c.vocabSize()).append(", ").append(c.maxPositionEmbeddings())
                .append(" positions, activation ").append(c.hiddenAct()).append('\n');
        if (origin.sentenceEmbedding() != null) {
            sb.append("- Sentence embedding: ").append(origin.sentenceEmbedding()).append('\n');
        }
        sb.append("\n## How it was converted\n\n");
        sb.append("Embeddings, LayerNorm parameters and biases were copied under their own names. The ")
                .append(mapped.transposed().size()).append(" Linear weights are MatMul operands in the export, stored")
                .append(" [in, out] and mostly anonymous (`onnx::MatMul_*`); each was identified by the named bias added")
                .append(" to its MatMul's output and transposed to torch.nn.Linear's [out, in]. ");
        sb.append(mapped.hasPooler() ? "The export includes the pooler.\n"
                : "The export has no pooler, so `pooler.dense.*` is absent: a loader that needs it initialises it anew.\n");
        sb.append("\nConfig fields read from the graph: ").append(String.join("; ", mapped.findings())).append(".\n");
        sb.append("\n## License\n\n");
        sb.append(origin.license() != null ? origin.license()
                : "Unknown: check the license of the model the ONNX file was exported from before redistributing it.")
                .append('\n');
        if (origin.sourceReadme() != null && !origin.sourceReadme().isBlank()) {
            sb.append("\nThe README shipped beside the export reads:\n\n```\n").append(origin.sourceReadme().strip())
                    .append("\n```\n");
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------
    // Checking an imported directory

    /**
     * What is wrong with an imported model directory, or an empty list when it is complete: config.json
     * reads as a BERT encoder, model.safetensors holds exactly that encoder's keys with their shapes, and
     * the tokenizer files are there.
     */
    public static List<String> problems(Path dir) {
        List<String> problems = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return List.of(dir + " is not a directory");
        }
        for (String f : List.of(TextTokenizer.TOKENIZER_JSON, TextTokenizer.TOKENIZER_CONFIG, ModelConfig.FILE,
                WeightFiles.SINGLE)) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                problems.add(f + " is missing");
            }
        }
        if (!problems.isEmpty()) {
            return problems;
        }
        try {
            ModelConfig mc = ModelConfig.read(dir);
            if (!(mc.encoder() instanceof BertConfig bc) || !bc.modelType().equals("bert")) {
                return List.of("config.json is not a BERT config");
            }
            try (SafeTensors st = SafeTensors.open(dir.resolve(WeightFiles.SINGLE))) {
                boolean pooler = st.contains("pooler.dense.weight");
                Map<String, long[]> expected = BertOnnxMapping.expectedShapes(bc, pooler);
                for (Map.Entry<String, long[]> e : expected.entrySet()) {
                    SafeTensors.Entry entry = st.entries().get(e.getKey());
                    if (entry == null) {
                        problems.add("model.safetensors lacks " + e.getKey());
                    } else if (!Arrays.equals(entry.shape(), e.getValue())) {
                        problems.add(e.getKey() + " has shape " + Arrays.toString(entry.shape()) + ", config.json implies "
                                + Arrays.toString(e.getValue()));
                    }
                }
                st.entries().keySet().stream().filter(k -> !expected.containsKey(k))
                        .forEach(k -> problems.add("model.safetensors has an unexpected tensor " + k));
            }
        } catch (CheckpointException | UncheckedIOException e) {
            problems.add(e.getMessage());
        }
        return problems;
    }

    // ---------------------------------------------------------------------------------------------

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    private static byte[] readFile(Path file, String what) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": file not found. Check the path to the " + what + ".");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static boolean isNonEmptyDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static List<String> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** What the importer needs from a WordPiece tokenizer.json: special tokens, case handling, vocabulary size. */
    record TokenizerFacts(int padId, int vocabSize, boolean lowercase, Map<String, String> specialTokens) {

        static TokenizerFacts parse(byte[] json, String where) {
            JsonNode root;
            try {
                root = JSON.readTree(json);
            } catch (IOException e) {
                throw new CheckpointException(where + ": not valid JSON (" + e.getMessage() + ")", e);
            }
            if (root == null || !root.isObject() || !root.path("model").isObject()) {
                throw new CheckpointException(where + ": not a tokenizers JSON file (no \"model\" section). Pass the"
                        + " tokenizer.json that belongs to the model.");
            }
            JsonNode vocab = root.path("model").path("vocab");
            if (!vocab.isObject()) {
                throw new CheckpointException(where + ": the tokenizer's model has no vocabulary map; a BERT (WordPiece)"
                        + " tokenizer.json is expected.");
            }
            long max = -1;
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                max = Math.max(max, id.asLong());
            }
            for (JsonNode t : root.path("added_tokens")) {
                max = Math.max(max, t.path("id").asLong(-1));
            }
            Map<String, String> special = new java.util.LinkedHashMap<>();
            for (String[] role : new String[][] {{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                    {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}}) {
                if (vocab.has(role[1])) {
                    special.put(role[0], role[1]);
                }
            }
            int pad = vocab.has("[PAD]") ? vocab.get("[PAD]").asInt() : 0;
            JsonNode lower = root.path("normalizer").path("lowercase");
            return new TokenizerFacts(pad, (int) (max + 1), !lower.isBoolean() || lower.asBoolean(), special);
        }

        /** tokenizer_config.json as transformers' BertTokenizer writes it. */
        String tokenizerConfig(int maxPositions) {
            ObjectNode n = JSON.createObjectNode();
            n.put("tokenizer_class", "BertTokenizer");
            n.put("do_lower_case", lowercase);
            n.put("model_max_length", maxPositions);
            n.put("clean_up_tokenization_spaces", true);
            n.put("tokenize_chinese_chars", true);
            n.putNull("strip_accents");
            specialTokens.forEach(n::put);
            return pretty(n);
        }

        String specialTokensMap() {
            ObjectNode n = JSON.createObjectNode();
            specialTokens.forEach(n::put);
            return pretty(n);
        }

        private static String pretty(ObjectNode n) {
            try {
                return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
