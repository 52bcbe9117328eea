package org.finetune4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {
    static final List<String> TEXTS = List.of("Hello, World!", "Forest fire near La Ronge Sask. Canada",
            "Café naïve résumé — ¿qué?", "東京 is big", "unaffable tokenization", "#wildfires @user http://t.co/abc",
            "   spaces\tand\nnewlines  ");

    @Test
    void vocabTxtAloneTokenisesLikeTokenizerJson(@TempDir Path a, @TempDir Path b) throws Exception {
        TinyModels.writeTokenizer(a);
        // Recover vocab.txt (id order) from tokenizer.json, as a checkpoint without tokenizer.json would ship it.
        JsonNode vocab = new ObjectMapper().readTree(a.resolve("tokenizer.json").toFile()).path("model").path("vocab");
        TreeMap<Integer, String> byId = new TreeMap<>();
        vocab.fields().forEachRemaining(e -> byId.put(e.getValue().asInt(), e.getKey()));
        Files.write(b.resolve("vocab.txt"), new ArrayList<>(byId.values()));
        Files.writeString(b.resolve("tokenizer_config.json"), "{\"do_lower_case\": true}");
        try (TextTokenizer fromJson = TextTokenizer.load(a, 0); TextTokenizer fromVocab = TextTokenizer.load(b, 0)) {
            assertEquals(fromJson.vocabSize(), fromVocab.vocabSize());
            for (String t : TEXTS) {
                assertArrayEquals(fromJson.encode(t).ids(), fromVocab.encode(t).ids(), t);
            }
            Tokenized pair = fromVocab.encode("first part", "second part");
            assertArrayEquals(fromJson.encode("first part", "second part").ids(), pair.ids());
            assertArrayEquals(new long[] {0, 0, 0, 0, 1, 1, 1}, pair.typeIds());
        }
    }

    /**
     * save_pretrained writes vocab.txt beside tokenizer.json for a WordPiece tokenizer, so that
     * AutoTokenizer.from_pretrained(dir, use_fast=False) loads a run directory (issue 16): line i is id i.
     */
    @Test
    void savedWordPieceTokenizerHasVocabTxtInIdOrder(@TempDir Path a, @TempDir Path b, @TempDir Path c) throws Exception {
        TinyModels.writeTokenizer(a);
        try (TextTokenizer t = TextTokenizer.load(a, 0)) {
            t.save(b, a); // the source has no vocab.txt to copy: it is made from tokenizer.json
        }
        JsonNode vocab = new ObjectMapper().readTree(a.resolve("tokenizer.json").toFile()).path("model").path("vocab");
        String text = Files.readString(b.resolve("vocab.txt"));
        assertTrue(text.endsWith("\n"), "every line ends in a newline, as save_vocabulary writes it");
        List<String> lines = List.of(text.split("\n", -1)).subList(0, vocab.size());
        assertEquals(vocab.size() + 1, text.split("\n", -1).length, "one line per token");
        assertEquals(TinyModels.VOCAB, vocab.size());
        vocab.fields().forEachRemaining(e -> assertEquals(e.getKey(), lines.get(e.getValue().asInt()), "line of id " + e.getValue()));
        assertEquals("[PAD]", lines.get(0));
        assertEquals("[CLS]", lines.get(101));
        // A directory with only that vocab.txt (as the slow tokenizer reads it) gives the same ids.
        Files.copy(b.resolve("vocab.txt"), c.resolve("vocab.txt"));
        Files.writeString(c.resolve("tokenizer_config.json"), "{\"do_lower_case\": true}");
        try (TextTokenizer fromJson = TextTokenizer.load(a, 0); TextTokenizer fromVocab = TextTokenizer.load(c, 0)) {
            for (String t : TEXTS) {
                assertArrayEquals(fromJson.encode(t).ids(), fromVocab.encode(t).ids(), t);
            }
        }
    }

    @Test
    void noVocabTxtWhereIdsAreNotOneTokenPerLine() {
        String gap = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[PAD]\": 0, \"a\": 2}}}";
        String bpe = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}";
        String ok = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"b\": 1, \"a\": 0}}}";
        assertEquals(null, TextTokenizer.wordPieceVocab(gap.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals(null, TextTokenizer.wordPieceVocab(bpe.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals("a\nb\n", TextTokenizer.wordPieceVocab(ok.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void truncationKeepsSpecialTokens(@TempDir Path a) {
        TinyModels.writeTokenizer(a);
        try (TextTokenizer t = TextTokenizer.load(a, 6)) {
            Tokenized full = t.withMaxLength(0).encode("one two three four five six seven");
            Tokenized cut = t.encode("one two three four five six seven");
            assertEquals(9, full.length());
            assertFalse(full.truncated());
            assertEquals(6, cut.length());
            assertTrue(cut.truncated());
            assertEquals(101, cut.ids()[0], "[CLS] kept");
            assertEquals(102, cut.ids()[5], "[SEP] kept at the end");
            assertArrayEquals(java.util.Arrays.copyOfRange(full.ids(), 1, 5), java.util.Arrays.copyOfRange(cut.ids(), 1, 5));
            assertEquals(6, t.encode("a b c d e f g h", "i j k l m n").length(), "pairs truncated longest-first");
        }
    }

    /**
     * transformers' longest_first (truncate_sequences): even out the longer text, then split what is left
     * to remove, the second text losing the odd token, whichever text was longer. [CLS] A [SEP] B [SEP]
     * at max_length 10 leaves 7 tokens for the texts. The Rust library would keep 3 + 4 in the first case.
     */
    @Test
    void pairTruncationSplitsAnOddRemainderAsTransformers(@TempDir Path a) {
        TinyModels.writeTokenizer(a);
        try (TextTokenizer t = TextTokenizer.load(a, 10)) {
            String five = "a b c d e";
            String eight = "a b c d e f g h";
            for (Tokenized cut : List.of(t.encode(five, eight), t.encode(eight, five),
                    t.encodeAll(List.of(five), List.of(eight)).get(0))) {
                assertEquals(10, cut.length());
                assertTrue(cut.truncated());
                assertEquals(6, java.util.Arrays.stream(cut.typeIds()).filter(x -> x == 0).count(), "[CLS] + 4 + [SEP]");
            }
            Tokenized shortFirst = t.encode("a b", eight); // only the longer text is cut: 2 + 5
            assertEquals(6, java.util.Arrays.stream(shortFirst.typeIds()).filter(x -> x == 1).count(), "5 + [SEP]");
            assertFalse(t.encode("a b", "c d").truncated());
        }
    }

    @Test
    void missingOrBrokenTokenizerIsAClearError(@TempDir Path a) throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TextTokenizer.load(a, 0));
        assertTrue(e.getMessage().contains("no tokenizer.json or vocab.txt"), e.getMessage());
        Files.writeString(a.resolve("tokenizer.json"), "{\"version\": \"1.0\"}");
        e = assertThrows(CheckpointException.class, () -> TextTokenizer.load(a, 0));
        assertTrue(e.getMessage().contains("no \"model\" section"), e.getMessage());
    }
}
