package org.finetune4j.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.api.DataSpec;
import org.finetune4j.api.FineTuning;
import org.finetune4j.api.ModelLocator;
import org.finetune4j.api.RunResult;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.train.TrainerListener;
import org.finetune4j.train.TrainingConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny DeBERTa-v3-style repository on the loopback Hub, laid out as microsoft/deberta-v3-* are: a bare
 * DebertaV2Model (no pooler), config.json, a SentencePiece Unigram tokenizer.json with DeBERTa-v3's
 * template ([CLS] A [SEP] B [SEP], type ids 0/1) and the spm.model the slow tokenizer reads. It is
 * downloaded by its Hub id and fine-tuned end to end; the run directory loads and predicts.
 */
class DebertaHubEndToEndTest {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final List<String> WORDS = List.of("the", "storm", "flooded", "town", "what", "a", "lovely", "sunny", "afternoon",
            "number");

    @TempDir
    Path work;

    /** [PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3 as in deberta-v3; then "▁", a piece per word, the digits. */
    static String tokenizerJson() {
        List<String> vocab = new ArrayList<>(List.of("[\"[PAD]\", 0.0]", "[\"[CLS]\", 0.0]", "[\"[SEP]\", 0.0]",
                "[\"[UNK]\", 0.0]", "[\"\\u2581\", -2.0]"));
        for (String w : WORDS) {
            vocab.add("[\"\\u2581" + w + "\", -5.0]");
        }
        for (int d = 0; d < 10; d++) {
            vocab.add("[\"" + d + "\", -4.0]");
        }
        String special = "{\"id\": %d, \"content\": \"%s\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false,"
                + " \"normalized\": false, \"special\": true}";
        return """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [%s, %s, %s, %s],
                 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Strip", "strip_left": true, "strip_right": true},
                   {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
                 "pre_tokenizer": {"type": "Metaspace", "replacement": "\\u2581", "add_prefix_space": true},
                 "post_processor": {"type": "TemplateProcessing",
                   "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                              {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                   "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                            {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                            {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                   "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [1], "tokens": ["[CLS]"]},
                                      "[SEP]": {"id": "[SEP]", "ids": [2], "tokens": ["[SEP]"]}}},
                 "decoder": {"type": "Metaspace", "replacement": "\\u2581", "add_prefix_space": true},
                 "model": {"type": "Unigram", "unk_id": 3, "vocab": [%s]}}
                """.formatted(special.formatted(0, "[PAD]"), special.formatted(1, "[CLS]"), special.formatted(2, "[SEP]"),
                special.formatted(3, "[UNK]"), String.join(", ", vocab));
    }

    @Test
    void aDebertaV3StyleRepositoryIsDownloadedAndFineTuned() throws Exception {
        Path saved = work.resolve("saved");
        try (NDManager manager = NDManager.newBaseManager();
                TransformerModel base = TransformerModel.random(ModelConfig.encoderOnly(TinyModels.deberta()), manager, 11)) {
            base.save(saved);
        }
        byte[] spm = "not read by finetune4j; the slow tokenizer's file".getBytes(StandardCharsets.UTF_8);
        List<String> rows = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < 24; i++) {
            rows.add(i % 2 == 0 ? "the storm flooded the town number " + i + ",disaster"
                    : "what a lovely sunny afternoon number " + i + ",calm");
        }
        Path csv = Files.write(work.resolve("train.csv"), rows);

        try (FakeHub hub = new FakeHub()) {
            hub.repo("tiny-org/tiny-deberta-v3", COMMIT)
                    .file("config.json", Files.readAllBytes(saved.resolve("config.json")))
                    .file("tokenizer.json", tokenizerJson().getBytes(StandardCharsets.UTF_8))
                    .file("tokenizer_config.json", "{\"do_lower_case\": false, \"model_max_length\": 512}".getBytes(StandardCharsets.UTF_8))
                    .lfsFile("spm.model", spm)
                    .lfsFile("model.safetensors", Files.readAllBytes(saved.resolve("model.safetensors")));
            HubConfig config = new HubConfig(hub.endpoint(), work.resolve("cache"), null, false);
            Path dir = ModelLocator.resolve("tiny-org/tiny-deberta-v3", config);
            assertArrayEquals(spm, Files.readAllBytes(dir.resolve("spm.model")), "the slow tokenizer's file comes along");

            try (TextTokenizer tok = TextTokenizer.load(dir, 0)) {
                var pair = tok.encode("the storm", "a town"); // [CLS] ▁the ▁storm [SEP] ▁a ▁town [SEP]
                assertArrayEquals(new long[] {1, 5, 6, 2, 10, 8, 2}, pair.ids());
                assertArrayEquals(new long[] {0, 0, 0, 0, 1, 1, 1}, pair.typeIds());
            }

            Path out = work.resolve("run");
            TrainingConfig training = TrainingConfig.builder().epochs(2).batchSize(8).maxLength(16).learningRate(1e-3)
                    .seed(5).build();
            RunResult r = FineTuning.run(FineTuning.Spec.builder().model(dir.toString())
                    .data(new DataSpec(csv, null, null, new double[] {0.75, 0.25}, ReadOptions.of("text", "label"), null, false,
                            true))
                    .training(training).output(out).build(), TrainerListener.NONE);
            assertTrue(Double.isFinite(r.validation().get("eval_loss")), r.validation().toString());
            assertArrayEquals(spm, Files.readAllBytes(out.resolve("spm.model")), "the run keeps the slow tokenizer's file");
            try (TextClassifier clf = TextClassifier.load(out)) {
                assertEquals("DebertaV2ForSequenceClassification", clf.config().architecture());
                float[] p = clf.probabilities(List.of("the storm flooded the town"), null)[0];
                assertEquals(1.0, p[0] + p[1], 1e-5);
            }

            // A repository with the SentencePiece model only (as microsoft/deberta-v3-base): a clear error.
            Files.delete(out.resolve("tokenizer.json"));
            CheckpointException e = assertThrows(CheckpointException.class, () -> TextTokenizer.load(out, 0));
            assertTrue(e.getMessage().contains("has a SentencePiece model (spm.model) but no tokenizer.json"), e.getMessage());
            assertTrue(e.getMessage().contains("AutoTokenizer.from_pretrained(MODEL).save_pretrained(DIR)"), e.getMessage());
        }
    }
}
