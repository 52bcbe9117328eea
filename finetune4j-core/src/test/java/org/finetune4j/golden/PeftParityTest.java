package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.lora.Lora;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.lora.LoraLayer;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.junit.jupiter.api.Test;

/**
 * Adapters that PEFT 0.8.2 saved (golden/peft-lora-bert, golden/peft-lora-distilbert), loaded onto their
 * base models by the code behind {@code --model BASE --adapter DIR} ({@link TextClassifier#loadAdapted}):
 * the base logits, the adapter's logits, the LoRA update, the merged weight and the merged logits, each
 * against PEFT's own. And the adapter_config.json we write, against the key set PEFT 0.8.2 wrote.
 */
@NeedsSharedData
class PeftParityTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void bertAdapter() {
        // README peft-lora-bert: recommended 1e-5 abs.
        check("peft-lora-bert", "adapter", "", "scaling", "bert.encoder.layer.0.attention.self.query.weight", 1e-5);
    }

    @Test
    void distilBertAdapterRestoresPreClassifierToo() {
        // README peft-lora-distilbert: recommended 5e-5 abs (logits up to about 6.7).
        check("peft-lora-distilbert", "adapter", "", "scaling", "distilbert.transformer.layer.0.attention.q_lin.weight", 5e-5);
    }

    @Test
    void distilBertRsLoraAdapter() {
        check("peft-lora-distilbert", "adapter-rslora", "rslora_", "rslora_scaling",
                "distilbert.transformer.layer.0.attention.q_lin.weight", 5e-5);
    }

    /**
     * @param prefix the expected tensors' name prefix for this adapter ("rslora_" or "")
     * @param weight the wrapped weight whose update and merged value the fixture holds
     */
    private static void check(String fixture, String adapter, String prefix, String scalingKey, String weight, double tol) {
        Golden g = Golden.fixture(fixture);
        Path adapterDir = g.dir().resolve(adapter);
        // base_model_name_or_path is relative to the fixtures' folder ("bert-seqcls"), as PEFT saved it there.
        Path baseDir = g.dir().getParent().resolve(LoraConfig.read(adapterDir).baseModelNameOrPath());
        try (NDManager m = NDManager.newBaseManager()) {
            EncoderInput in = g.encoderInput(m);
            if (prefix.isEmpty()) {
                try (TransformerModel base = TransformerModel.load(baseDir, m).model()) {
                    g.assertClose("base_logits", base.logits(in, false), tol);
                }
            }
            Lora lora = TextClassifier.loadAdapted(baseDir, adapterDir, m);
            try (TransformerModel model = lora.model()) {
                g.assertClose(scalingKey, g.json().get(scalingKey).asDouble(), lora.config().scale(), 1e-12);
                // modules_to_save is null in adapter_config.json, yet PEFT wrapped and saved every module whose name
                // ends with "classifier" (DistilBERT's pre_classifier too): each must replace the base's copy.
                for (JsonNode wrapped : g.json().get("modules_to_save_wrapped")) {
                    String module = wrapped.asText().substring(Lora.PEFT_PREFIX.length());
                    assertTrue(lora.restored(module + ".weight") && lora.restored(module + ".bias"),
                            module + " was not taken from the adapter");
                }
                g.assertClose(prefix + "logits_with_adapter", model.logits(in, false), tol);
                LoraLayer layer = lora.layers().stream().filter(l -> (l.base().name() + ".weight").equals(weight)).findFirst().orElseThrow();
                try (NDManager scratch = m.newSubManager()) {
                    g.assertClose(prefix + "lora_delta:" + weight, layer.delta(scratch), tol);
                }
                lora.merge();
                g.assertClose(prefix + "merged:" + weight, model.parameters().get(weight).array(), tol);
                g.assertClose(prefix + "merged_logits", model.logits(in, false), tol);
            }
        }
    }

    /**
     * PEFT 0.6 builds LoraConfig(**adapter_config.json) and refuses any key it does not know, so we write
     * no key beyond those PEFT 0.8.2 wrote, use_rslora only when true, and use_dora never. The keys PEFT
     * wrote that we leave out are all at PEFT's defaults for what we train.
     */
    @Test
    void adapterConfigKeysAreOnesPeftWrites() throws IOException {
        Golden g = Golden.fixture("peft-lora-bert");
        Set<String> peft = keys(JSON.readTree(g.dir().resolve("adapter").resolve(LoraConfig.FILE).toFile()));
        Set<String> ours = keys(JSON.readTree(LoraConfig.DEFAULTS.withBaseModel("sentence-transformers/all-MiniLM-L6-v2").toJson()));
        Set<String> extra = new TreeSet<>(ours);
        extra.removeAll(peft);
        assertEquals(Set.of(), extra, "keys PEFT 0.8.2 does not write");
        Set<String> left = new TreeSet<>(peft);
        left.removeAll(ours);
        assertEquals(new TreeSet<>(List.of("auto_mapping", "loftq_config", "megatron_config", "megatron_core", "use_rslora")), left);

        LoraConfig rs = new LoraConfig(8, 16, 0, List.of("q_lin", "v_lin"), null, List.of("classifier", "score"), "none", true, null);
        JsonNode rsJson = JSON.readTree(rs.toJson());
        assertTrue(rsJson.get("use_rslora").asBoolean());
        assertTrue(peft.containsAll(keys(rsJson)));
    }

    private static Set<String> keys(JsonNode n) {
        Set<String> out = new TreeSet<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
