package org.finetune4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SentencePiece (Unigram) tokenizer.json, laid out as xlm-roberta-base's on the Hub (added tokens
 * {@code <s> <pad> </s> <unk>} at 0..3, a Metaspace pre-tokenizer, the {@code <s> A </s></s> B </s>}
 * template, a Unigram model whose vocab is a list of [piece, log-probability]), loads through DJL's
 * tokenizers and tokenises by the scores: the ids below follow from Viterbi over this vocabulary.
 */
class UnigramTokenizerTest {
    /** A tiny XLM-R-style vocabulary: "▁wor" + "ld" (-3 - 3) beats "▁world" (-7), which a longest-match tokenizer would pick. */
    static final String TOKENIZER_JSON = """
            {
              "version": "1.0",
              "truncation": null,
              "padding": null,
              "added_tokens": [
                {"id": 0, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 1, "content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 3, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                {"id": 12, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true}
              ],
              "normalizer": {"type": "Sequence", "normalizers": [{"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
              "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": true},
              "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                "special_tokens": {
                  "<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                  "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}
                }
              },
              "decoder": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": true},
              "model": {
                "type": "Unigram",
                "unk_id": 3,
                "vocab": [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["\u2581", -2.0], ["\u2581Hello", -4.0],
                          ["\u2581world", -7.0], ["\u2581wor", -3.0], ["ld", -3.0], ["!", -3.5], ["\u2581He", -3.0], ["llo", -3.0],
                          ["<mask>", 0.0]]
              }
            }
            """;

    static Path write(Path dir) throws Exception {
        Files.writeString(dir.resolve(TextTokenizer.TOKENIZER_JSON), TOKENIZER_JSON);
        return dir;
    }

    @Test
    void aSentencePieceVocabularyTokenisesByItsScores(@TempDir Path dir) throws Exception {
        try (TextTokenizer t = TextTokenizer.load(write(dir), 0)) {
            assertEquals(13, t.vocabSize(), "a Unigram vocab is a list: its length");
            // <s> ▁Hello ▁wor ld ! ▁ <unk> </s>: "ü" is not in the vocabulary
            Tokenized one = t.encode("Hello world! ü");
            assertArrayEquals(new long[] {0, 5, 7, 8, 9, 4, 3, 2}, one.ids());
            // tokenizers' Unigram keeps the surface text of an unknown piece as its token (its id is unk_id)
            assertEquals(List.of("<s>", "\u2581Hello", "\u2581wor", "ld", "!", "\u2581", "ü", "</s>"),
                    t.tokens("Hello world! ü"));
            // XLM-R's pair template: <s> A </s></s> B </s>, every token of type 0 (type_vocab_size is 1)
            Tokenized pair = t.encode("Hello", "world");
            assertArrayEquals(new long[] {0, 5, 2, 2, 7, 8, 2}, pair.ids());
            assertArrayEquals(new long[7], pair.typeIds());
        }
    }

    @Test
    void truncationKeepsTheSentencePieceSpecialTokens(@TempDir Path dir) throws Exception {
        try (TextTokenizer t = TextTokenizer.load(write(dir), 5)) {
            Tokenized cut = t.encode("Hello world! ü");
            assertArrayEquals(new long[] {0, 5, 7, 8, 2}, cut.ids(), "<s> and </s> kept");
            assertTrue(cut.truncated());
            assertFalse(t.withMaxLength(0).encode("Hello world! ü").truncated());
        }
    }

    /**
     * A saved run directory must not claim a WordPiece BertTokenizer for a SentencePiece model, and keeps
     * the SentencePiece model file beside tokenizer.json.
     */
    @Test
    void savingDoesNotCallASentencePieceTokenizerBertTokenizer(@TempDir Path dir, @TempDir Path out) throws Exception {
        Files.write(dir.resolve(TextTokenizer.SENTENCEPIECE_MODEL), new byte[] {10, 11, 12}); // stands in for the real file
        try (TextTokenizer t = TextTokenizer.load(write(dir), 16)) {
            assertEquals("Unigram", t.modelType());
            t.save(out, dir);
            assertArrayEquals(new byte[] {10, 11, 12}, Files.readAllBytes(out.resolve(TextTokenizer.SENTENCEPIECE_MODEL)),
                    "the slow XLMRobertaTokenizer (use_fast=False) reads sentencepiece.bpe.model");
            JsonNode config = new ObjectMapper().readTree(out.resolve(TextTokenizer.TOKENIZER_CONFIG).toFile());
            assertFalse(config.has("tokenizer_class"), "transformers then picks the tokenizer from config.json's model_type: "
                    + config);
            assertEquals(16, config.get("model_max_length").asInt());
            try (TextTokenizer back = TextTokenizer.load(out, 0)) {
                assertArrayEquals(t.encode("Hello world! ü").ids(), back.encode("Hello world! ü").ids());
            }
        }
    }

    /**
     * A tiny XLM-R classifier whose directory holds this tokenizer: text goes in through the SentencePiece
     * ids, padded with XLM-R's pad id 1, and gives the logits of the ids typed in by hand.
     */
    @Test
    void anXlmRobertaClassifierReadsTextThroughIt(@TempDir Path dir) throws Exception {
        ModelConfig cfg = TinyModels.classifier(BertConfig.tiny("xlm-roberta", 13), List.of("neg", "pos"));
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.random(cfg, m, 5)) {
            model.save(dir);
            write(dir);
            long[] ids = {0, 5, 7, 8, 9, 4, 3, 2, 0, 5, 2, 1, 1, 1, 1, 1}; // "Hello world! ü" and "Hello", padded with 1
            long[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
            EncoderInput byHand = new EncoderInput(m.create(ids, new Shape(2, 8)), m.create(mask, new Shape(2, 8)), null);
            float[] want = model.logits(byHand, false).toFloatArray();
            try (TextClassifier c = TextClassifier.load(dir)) {
                float[][] got = c.logits(List.of("Hello world! ü", "Hello"), null, 2, null);
                assertArrayEquals(new float[] {want[0], want[1]}, got[0], 1e-6f);
                assertArrayEquals(new float[] {want[2], want[3]}, got[1], 1e-6f);
            }
        }
    }
}
