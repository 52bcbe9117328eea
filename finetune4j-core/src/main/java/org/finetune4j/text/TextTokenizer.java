package org.finetune4j.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.util.PairList;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;

/**
 * A model directory's tokenizer: Hugging Face's Rust tokenizers (through DJL) reading
 * {@code tokenizer.json}, or, when a directory has only {@code vocab.txt}, the standard BERT WordPiece
 * pipeline built from it and {@code tokenizer_config.json}. Truncation to max_length keeps the special
 * tokens (longest_first for pairs), as transformers' tokenizers do; pairs are truncated here rather than
 * by the Rust library, see {@link #truncatePair}.
 */
public final class TextTokenizer implements AutoCloseable {
    public static final String TOKENIZER_JSON = "tokenizer.json";
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    public static final String VOCAB_TXT = "vocab.txt";
    public static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    /** XLM-RoBERTa's SentencePiece model, what its slow (use_fast=False) tokenizer reads. */
    public static final String SENTENCEPIECE_MODEL = "sentencepiece.bpe.model";
    /** DeBERTa-v2/v3's SentencePiece model, which its slow tokenizer (use_fast=False) reads. */
    public static final String SPM_MODEL = "spm.model";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final byte[] tokenizerJson;
    private final ObjectNode tokenizerConfig;
    private final int maxLength;
    private final HuggingFaceTokenizer hf;
    private HuggingFaceTokenizer untruncated; // pairs when maxLength > 0, created on first use
    private final int vocabSize;

    private TextTokenizer(byte[] tokenizerJson, ObjectNode tokenizerConfig, int maxLength) {
        this.tokenizerJson = tokenizerJson;
        this.tokenizerConfig = tokenizerConfig;
        this.maxLength = maxLength;
        this.vocabSize = countVocab(tokenizerJson);
        this.hf = newRustTokenizer(tokenizerJson, maxLength);
    }

    private static HuggingFaceTokenizer newRustTokenizer(byte[] tokenizerJson, int maxLength) {
        try {
            Map<String, String> options = Map.of(
                    "truncation", maxLength > 0 ? "longest_first" : "false",
                    "maxLength", Integer.toString(maxLength > 0 ? maxLength : 1_000_000),
                    "padding", "false",
                    "addSpecialTokens", "true");
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), options);
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException("tokenizer.json could not be loaded by the Hugging Face tokenizers library: "
                    + e.getMessage() + ". Re-save it with a recent tokenizers version.", e);
        }
    }

    /** The tokenizer for pairs: never truncating, as {@link #truncatePair} truncates them. */
    private synchronized HuggingFaceTokenizer pairTokenizer() {
        if (maxLength <= 0) {
            return hf;
        }
        if (untruncated == null) {
            untruncated = newRustTokenizer(tokenizerJson, 0);
        }
        return untruncated;
    }

    /**
     * Whether {@code dir} has tokenizer files ({@code tokenizer.json}, or a WordPiece {@code vocab.txt}). A
     * model directory without them still loads, as transformers' AutoModel does, for work on token ids;
     * only what reads text needs a tokenizer.
     */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(TOKENIZER_JSON)) || Files.isRegularFile(dir.resolve(VOCAB_TXT));
    }

    /**
     * Loads the tokenizer of a model directory.
     *
     * @param maxLength truncate to this many tokens (special tokens included); 0 for no truncation
     */
    public static TextTokenizer load(Path dir, int maxLength) {
        ObjectNode config = readTokenizerConfig(dir);
        Path json = dir.resolve(TOKENIZER_JSON);
        Path vocab = dir.resolve(VOCAB_TXT);
        byte[] bytes;
        try {
            if (Files.isRegularFile(json)) {
                bytes = Files.readAllBytes(json);
            } else if (Files.isRegularFile(vocab)) {
                bytes = WordPieceJson.fromVocab(vocab, config);
            } else if (Files.isRegularFile(dir.resolve(SPM_MODEL)) || Files.isRegularFile(dir.resolve(SENTENCEPIECE_MODEL))) {
                // Some Hub repositories (microsoft/deberta-v3-base) ship only the SentencePiece model, which
                // transformers converts to a fast tokenizer on load; we read tokenizer.json only.
                throw new CheckpointException(dir + " has a SentencePiece model ("
                        + (Files.isRegularFile(dir.resolve(SPM_MODEL)) ? SPM_MODEL : SENTENCEPIECE_MODEL) + ") but no"
                        + " tokenizer.json, which finetune4j reads. Make one with Python transformers once:"
                        + " AutoTokenizer.from_pretrained(MODEL).save_pretrained(DIR) saves the fast tokenizer it converts to"
                        + " as DIR/tokenizer.json; copy config.json and the weights beside it and give --model DIR.");
            } else {
                throw new CheckpointException(dir + ": no tokenizer.json or vocab.txt, and this command reads text. Copy the"
                        + " tokenizer files of the base model into this directory (tokenizer.json, tokenizer_config.json).");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tokenizer in " + dir + ": " + e.getMessage(), e);
        }
        validateJson(bytes, dir.resolve(TOKENIZER_JSON));
        return new TextTokenizer(bytes, config, maxLength);
    }

    /** The same tokenizer with another truncation length. */
    public TextTokenizer withMaxLength(int newMaxLength) {
        return new TextTokenizer(tokenizerJson, tokenizerConfig, newMaxLength);
    }

    private static ObjectNode readTokenizerConfig(Path dir) {
        Path p = dir.resolve(TOKENIZER_CONFIG);
        if (!Files.isRegularFile(p)) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode n = JSON.readTree(p.toFile());
            if (n == null || !n.isObject()) {
                throw new CheckpointException(p + ": expected a JSON object");
            }
            return (ObjectNode) n;
        } catch (IOException e) {
            throw new CheckpointException(p + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    private static void validateJson(byte[] bytes, Path where) {
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject() || !n.has("model")) {
                throw new CheckpointException(where + ": not a tokenizers JSON file (no \"model\" section)");
            }
        } catch (IOException e) {
            throw new CheckpointException(where + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    /** Number of ids the tokenizer can produce: the largest id in its vocabulary or added tokens, plus one. */
    private static int countVocab(byte[] json) {
        try {
            JsonNode root = JSON.readTree(json);
            long max = -1;
            JsonNode vocab = root.path("model").path("vocab");
            if (vocab.isObject()) {
                for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                    max = Math.max(max, id.asLong());
                }
            } else if (vocab.isArray()) {
                max = vocab.size() - 1L; // Unigram: a list of [piece, score]
            }
            for (JsonNode t : root.path("added_tokens")) {
                max = Math.max(max, t.path("id").asLong(-1));
            }
            return (int) (max + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails when the tokenizer can produce ids the model's embedding table does not have. */
    public void checkCompatible(int modelVocabSize, String where) {
        if (vocabSize > modelVocabSize) {
            throw new CheckpointException(where + ": the tokenizer has " + vocabSize + " token ids but the model's vocab_size is "
                    + modelVocabSize + ", so some ids would index past the embedding table. The tokenizer does not belong to"
                    + " this model: copy the base model's tokenizer.json.");
        }
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int maxLength() {
        return maxLength;
    }

    /** model_max_length from tokenizer_config.json, or 0 when absent or unbounded. */
    public int modelMaxLength() {
        JsonNode n = tokenizerConfig.get("model_max_length");
        return n != null && n.canConvertToInt() && n.asLong() < 1_000_000 ? n.asInt() : 0;
    }

    public Tokenized encode(String text) {
        return toTokenized(hf.encode(text));
    }

    public Tokenized encode(String text, String pair) {
        return pair == null ? encode(text) : truncatePair(pairTokenizer().encode(text, pair));
    }

    /** Tokenises many texts (pairs may be null, or hold null entries for no pair) using the Rust thread pool. */
    public List<Tokenized> encodeAll(List<String> texts, List<String> pairs) {
        List<Tokenized> out = new ArrayList<>(texts.size());
        if (pairs == null) {
            for (Encoding e : hf.batchEncode(texts)) {
                out.add(toTokenized(e));
            }
        } else if (pairs.stream().anyMatch(java.util.Objects::isNull)) { // List.of(...).contains(null) would throw
            for (int i = 0; i < texts.size(); i++) {
                out.add(encode(texts.get(i), pairs.get(i)));
            }
        } else {
            for (Encoding e : pairTokenizer().batchEncode(new PairList<>(texts, pairs))) {
                out.add(truncatePair(e));
            }
        }
        return out;
    }

    /**
     * Truncates an untruncated pair encoding to max_length as transformers' longest_first does
     * (PreTrainedTokenizerBase.truncate_sequences): tokens are taken from the end of the longer text
     * until both texts are equally long, then from both alike, the second text giving up the odd one;
     * the special tokens stay. The Rust library splits an odd remainder the other way, giving the odd
     * token to the text that was longer (tokenizers' utils/truncation.rs), so when the second text is the
     * longer one it would keep one token more of it than transformers' BertTokenizer:
     * golden/bert-text-seqcls's pair_example (TokenizerParityTest) is such a pair.
     */
    private Tokenized truncatePair(Encoding e) {
        long[] ids = e.getIds();
        long[] types = e.getTypeIds();
        long[] sequence = e.getSequenceIds(); // 0 or 1 for each text's tokens, -1 for the special tokens around them
        int lenA = 0;
        int lenB = 0;
        for (long s : sequence) {
            lenA += s == 0 ? 1 : 0;
            lenB += s == 1 ? 1 : 0;
        }
        int budget = maxLength - (ids.length - lenA - lenB);
        if (maxLength <= 0 || lenA + lenB <= budget) {
            return new Tokenized(ids, types, false);
        }
        if (budget < 0) {
            throw new IllegalArgumentException("max_length " + maxLength + " is shorter than the " + (ids.length - lenA - lenB)
                    + " special tokens of a text pair; use a max_length of at least " + (ids.length - lenA - lenB + 2));
        }
        int remove = lenA + lenB - budget;
        int first = Math.min(Math.abs(lenB - lenA), remove); // evens out the longer text
        int second = remove - first; // then split, the second text losing the odd token
        int keepA = lenA - (lenA > lenB ? first + second / 2 : second / 2);
        int keepB = lenB - (lenA > lenB ? second - second / 2 : first + second - second / 2);
        int n = ids.length - (lenA - keepA) - (lenB - keepB);
        long[] outIds = new long[n];
        long[] outTypes = new long[n];
        int seenA = 0;
        int seenB = 0;
        int j = 0;
        for (int i = 0; i < ids.length; i++) {
            boolean keep = sequence[i] == 0 ? seenA++ < keepA : sequence[i] != 1 || seenB++ < keepB;
            if (keep) {
                outIds[j] = ids[i];
                outTypes[j] = types[i];
                j++;
            }
        }
        return new Tokenized(outIds, outTypes, true);
    }

    public List<String> tokens(String text) {
        return List.of(hf.encode(text).getTokens());
    }

    private static Tokenized toTokenized(Encoding e) {
        return new Tokenized(e.getIds(), e.getTypeIds(), e.exceedMaxLength());
    }

    /**
     * Writes tokenizer.json and tokenizer_config.json (with model_max_length) into {@code dir}, and for a
     * WordPiece tokenizer vocab.txt as save_pretrained writes it ({@link #wordPieceVocab}); copies
     * special_tokens_map.json, sentencepiece.bpe.model, spm.model, and vocab.txt when none could be written, from
     * {@code sourceDir} when it has them, so the directory loads in transformers' AutoTokenizer, the slow
     * (use_fast=False) one too. tokenizer_class BertTokenizer is only filled in for a WordPiece model: for
     * others (XLM-R's SentencePiece Unigram) transformers picks the tokenizer from config.json's model_type
     * when tokenizer_config.json names none.
     */
    public void save(Path dir, Path sourceDir) {
        AtomicFiles.write(dir.resolve(TOKENIZER_JSON), out -> out.write(tokenizerJson));
        String vocabTxt = wordPieceVocab(tokenizerJson);
        if (vocabTxt != null) {
            AtomicFiles.writeString(dir.resolve(VOCAB_TXT), vocabTxt);
        }
        ObjectNode config = tokenizerConfig.deepCopy();
        if (!config.has("model_max_length") && maxLength > 0) {
            config.put("model_max_length", maxLength);
        }
        if (!config.has("tokenizer_class") && modelType().equals("WordPiece")) {
            config.put("tokenizer_class", "BertTokenizer");
        }
        try {
            AtomicFiles.writeString(dir.resolve(TOKENIZER_CONFIG), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
            if (sourceDir != null) {
                for (String f : vocabTxt != null ? List.of(SPECIAL_TOKENS_MAP, SENTENCEPIECE_MODEL, SPM_MODEL)
                        : List.of(VOCAB_TXT, SPECIAL_TOKENS_MAP, SENTENCEPIECE_MODEL, SPM_MODEL)) {
                    Path src = sourceDir.resolve(f);
                    if (Files.isRegularFile(src) && !src.toAbsolutePath().normalize().equals(dir.resolve(f).toAbsolutePath().normalize())) {
                        Files.copy(src, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tokenizer to " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The vocab.txt of a WordPiece tokenizer.json, as save_pretrained writes it (BertTokenizerFast saves
     * its WordPiece model's vocabulary: one token per line, line i holding id i, each line ending in a
     * newline); null for another model type, or when no file can say the same (ids with gaps, a token
     * with a line break), since a slow BertTokenizer numbers tokens by their line.
     */
    static String wordPieceVocab(byte[] tokenizerJson) {
        JsonNode model;
        try {
            model = JSON.readTree(tokenizerJson).path("model");
        } catch (IOException e) {
            return null;
        }
        JsonNode vocab = model.path("vocab");
        if (!model.path("type").asText().equals("WordPiece") || !vocab.isObject() || vocab.isEmpty()) {
            return null;
        }
        String[] byId = new String[vocab.size()];
        for (var it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0 || id >= byId.length || byId[id] != null || e.getKey().indexOf('\n') >= 0 || e.getKey().indexOf('\r') >= 0) {
                return null;
            }
            byId[id] = e.getKey();
        }
        StringBuilder sb = new StringBuilder();
        for (String token : byId) {
            sb.append(token).append('\n');
        }
        return sb.toString();
    }

    /** The tokenizers model type of tokenizer.json: "WordPiece", "Unigram" (SentencePiece), "BPE". */
    public String modelType() {
        try {
            return JSON.readTree(tokenizerJson).path("model").path("type").asText("");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String tokenizerJsonText() {
        return new String(tokenizerJson, StandardCharsets.UTF_8);
    }

    @Override
    public synchronized void close() {
        hf.close();
        if (untruncated != null) {
            untruncated.close();
        }
    }

    /** Builds a tokenizers JSON for BERT's WordPiece from vocab.txt, as transformers' BertTokenizerFast converter does. */
    static final class WordPieceJson {
        private WordPieceJson() {
        }

        static byte[] fromVocab(Path vocabFile, ObjectNode tokenizerConfig) throws IOException {
            List<String> lines = Files.readAllLines(vocabFile, StandardCharsets.UTF_8);
            ObjectNode root = JSON.createObjectNode();
            root.put("version", "1.0");
            root.putNull("truncation");
            root.putNull("padding");
            boolean lower = tokenizerConfig.path("do_lower_case").asBoolean(true);
            String cls = tokenizerConfig.path("cls_token").asText("[CLS]");
            String sep = tokenizerConfig.path("sep_token").asText("[SEP]");
            String unk = tokenizerConfig.path("unk_token").asText("[UNK]");
            ObjectNode vocab = JSON.createObjectNode();
            for (int i = 0; i < lines.size(); i++) {
                String tok = lines.get(i);
                if (!tok.isEmpty() && !vocab.has(tok)) {
                    vocab.put(tok, i);
                }
            }
            for (String required : List.of(cls, sep, unk)) {
                if (!vocab.has(required)) {
                    throw new CheckpointException(vocabFile + ": the special token " + required
                            + " is not in the vocabulary; set it in tokenizer_config.json");
                }
            }
            ArrayNode added = root.putArray("added_tokens");
            for (String special : List.of("[PAD]", unk, cls, sep, "[MASK]")) {
                if (vocab.has(special)) {
                    ObjectNode t = added.addObject();
                    t.put("id", vocab.get(special).asInt());
                    t.put("content", special);
                    t.put("single_word", false);
                    t.put("lstrip", false);
                    t.put("rstrip", false);
                    t.put("normalized", false);
                    t.put("special", true);
                }
            }
            ObjectNode normalizer = root.putObject("normalizer");
            normalizer.put("type", "BertNormalizer");
            normalizer.put("clean_text", true);
            normalizer.put("handle_chinese_chars", tokenizerConfig.path("tokenize_chinese_chars").asBoolean(true));
            if (tokenizerConfig.has("strip_accents") && !tokenizerConfig.get("strip_accents").isNull()) {
                normalizer.put("strip_accents", tokenizerConfig.get("strip_accents").asBoolean());
            } else {
                normalizer.putNull("strip_accents");
            }
            normalizer.put("lowercase", lower);
            root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
            ObjectNode post = root.putObject("post_processor");
            post.put("type", "TemplateProcessing");
            ArrayNode single = post.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", cls).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            single.addObject().putObject("SpecialToken").put("id", sep).put("type_id", 0);
            ArrayNode pair = post.putArray("pair");
            pair.addObject().putObject("SpecialToken").put("id", cls).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", sep).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            pair.addObject().putObject("SpecialToken").put("id", sep).put("type_id", 1);
            ObjectNode specials = post.putObject("special_tokens");
            for (String s : List.of(cls, sep)) {
                ObjectNode st = specials.putObject(s);
                st.put("id", s);
                st.putArray("ids").add(vocab.get(s).asInt());
                st.putArray("tokens").add(s);
            }
            ObjectNode decoder = root.putObject("decoder");
            decoder.put("type", "WordPiece");
            decoder.put("prefix", "##");
            decoder.put("cleanup", true);
            ObjectNode model = root.putObject("model");
            model.put("type", "WordPiece");
            model.put("unk_token", unk);
            model.put("continuing_subword_prefix", "##");
            model.put("max_input_chars_per_word", 100);
            model.set("vocab", vocab);
            return JSON.writeValueAsBytes(root);
        }
    }
}
