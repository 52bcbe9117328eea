package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.text.Padding;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.text.Tokenized;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.train.Losses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our tokenizer (tokenizer.json through DJL's Hugging Face tokenizers) against transformers' slow
 * BertTokenizer on golden/bert-text-seqcls: token ids exactly, truncated at max_length and not, a
 * sentence pair, the padded batch; then the model's logits and loss on our own tokenisation (1e-5 abs).
 */
@NeedsSharedData
class TokenizerParityTest {
    private static final double TOL = 1e-5;

    @Test
    void singleTextsTruncatedAndNot() {
        Golden g = Golden.fixture("bert-text-seqcls");
        int maxLength = g.inputs().get("max_length").asInt();
        try (TextTokenizer truncating = TextTokenizer.load(g.dir(), maxLength);
                TextTokenizer whole = TextTokenizer.load(g.dir(), 0)) {
            JsonNode tokenized = g.json().get("tokenized");
            for (int i = 0; i < tokenized.size(); i++) {
                JsonNode t = tokenized.get(i);
                String text = t.get("text").asText();
                assertEquals(g.inputs().get("texts").get(i).asText(), text, "expected.json and inputs.json disagree on text " + i);
                g.assertExact("tokenized[" + i + "].input_ids", Golden.longs(t.get("input_ids")), truncating.encode(text).ids());
                g.assertExact("tokenized[" + i + "].input_ids_untruncated", Golden.longs(t.get("input_ids_untruncated")),
                        whole.encode(text).ids());
                assertEquals(strings(t.get("tokens")), truncating.tokens(text), "tokens of text " + i);
                assertEquals(strings(t.get("tokens_untruncated")), whole.tokens(text), "untruncated tokens of text " + i);
            }
        }
    }

    @Test
    void sentencePair() {
        Golden g = Golden.fixture("bert-text-seqcls");
        JsonNode p = g.json().get("pair_example");
        try (TextTokenizer truncating = TextTokenizer.load(g.dir(), p.get("max_length").asInt());
                TextTokenizer whole = TextTokenizer.load(g.dir(), 0)) {
            Tokenized cut = truncating.encode(p.get("text").asText(), p.get("text_pair").asText());
            g.assertExact("pair_example.input_ids", Golden.longs(p.get("input_ids")), cut.ids());
            g.assertExact("pair_example.token_type_ids", Golden.longs(p.get("token_type_ids")), cut.typeIds());
            Tokenized all = whole.encode(p.get("text").asText(), p.get("text_pair").asText());
            g.assertExact("pair_example.input_ids_untruncated", Golden.longs(p.get("input_ids_untruncated")), all.ids());
            g.assertExact("pair_example.token_type_ids_untruncated", Golden.longs(p.get("token_type_ids_untruncated")),
                    all.typeIds());
        }
    }

    /**
     * A folder with only vocab.txt and tokenizer_config.json: the tokenizer we build from them
     * (TextTokenizer.WordPieceJson) must give the same ids as the slow BertTokenizer too.
     */
    @Test
    void vocabTxtWithoutTokenizerJson(@TempDir Path dir) throws IOException {
        Golden g = Golden.fixture("bert-text-seqcls");
        for (String f : List.of(TextTokenizer.VOCAB_TXT, TextTokenizer.TOKENIZER_CONFIG)) {
            Files.copy(g.dir().resolve(f), dir.resolve(f));
        }
        int maxLength = g.inputs().get("max_length").asInt();
        try (TextTokenizer truncating = TextTokenizer.load(dir, maxLength);
                TextTokenizer whole = TextTokenizer.load(dir, 0)) {
            JsonNode tokenized = g.json().get("tokenized");
            for (int i = 0; i < tokenized.size(); i++) {
                JsonNode t = tokenized.get(i);
                String text = t.get("text").asText();
                g.assertExact("vocab.txt only: tokenized[" + i + "].input_ids", Golden.longs(t.get("input_ids")),
                        truncating.encode(text).ids());
                g.assertExact("vocab.txt only: tokenized[" + i + "].input_ids_untruncated",
                        Golden.longs(t.get("input_ids_untruncated")), whole.encode(text).ids());
            }
            JsonNode p = g.json().get("pair_example");
            Tokenized cut = truncating.encode(p.get("text").asText(), p.get("text_pair").asText());
            g.assertExact("vocab.txt only: pair_example.input_ids", Golden.longs(p.get("input_ids")), cut.ids());
            g.assertExact("vocab.txt only: pair_example.token_type_ids", Golden.longs(p.get("token_type_ids")), cut.typeIds());
        }
    }

    /** The padded batch from our tokenizer and Padding, then logits and loss of the model on it. */
    @Test
    void paddedBatchLogitsAndLoss() {
        Golden g = Golden.fixture("bert-text-seqcls");
        List<String> texts = strings(g.inputs().get("texts"));
        try (TextTokenizer tokenizer = TextTokenizer.load(g.dir(), g.inputs().get("max_length").asInt());
                NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = Padding.batch(m, tokenizer.encodeAll(texts, null), 0);
            EncoderInput want = g.encoderInput(m);
            g.assertExact("batch input_ids", want.inputIds().toLongArray(), in.inputIds().toLongArray());
            g.assertExact("batch attention_mask", want.attentionMask().toLongArray(), in.attentionMask().toLongArray());
            g.assertExact("batch token_type_ids", want.tokenTypeIds().toLongArray(), in.tokenTypeIds().toLongArray());
            NDArray logits = model.logits(in, false); // (8, 2)
            g.assertClose("logits", logits, TOL);
            NDArray labels = m.create(Golden.longs(g.inputs().get("labels"))); // (B)
            g.assertClose("loss (Losses.crossEntropy)", Golden.f32(g.json().get("loss")),
                    Losses.crossEntropy(logits, labels, null, 0).getFloat(), TOL);
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
