package org.finetune4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.io.WeightFiles;
import org.finetune4j.lora.Lora;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TextClassifier#loadAdapted}: an adapter applies only where every weight the model computes with
 * comes from the base checkpoint or the adapter. A BERT head reads the pooler; a base without pooler
 * weights (many exported checkpoints) plus an adapter that does not save it would leave the pooler random,
 * and PEFT's predictions could not be reproduced (issue 16: 12 of 50 labels agreed).
 */
class AdapterLoadTest {
    private static final List<String> LABELS = List.of("no", "yes");
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    @TempDir
    Path tmp;
    Path withPooler;
    Path withoutPooler;

    @BeforeEach
    void bases() {
        withPooler = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 11, tmp.resolve("base"));
        withoutPooler = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 11, tmp.resolve("base-no-pooler"));
        Path file = withoutPooler.resolve(WeightFiles.SINGLE);
        Map<String, HostTensor> kept = new LinkedHashMap<>(SafeTensors.readFile(file));
        assertTrue(kept.keySet().removeIf(k -> k.startsWith("pooler.")), "the tiny base has pooler weights to remove");
        SafeTensors.write(file, kept, Map.of("format", "pt"));
    }

    /** Trains nothing: a classifier on {@code base} with an adapter saving {@code modulesToSave}, written to {@code dir}. */
    private EncoderInput adapter(Path base, List<String> modulesToSave, Path dir, NDManager m, float[][] logitsOut) {
        ModelConfig clf = ModelConfig.encoderOnly(TinyModels.bert()).withClassifier(LABELS, ProblemType.SINGLE_LABEL,
                HeadConfig.standard(TinyModels.bert()));
        try (TransformerModel model = TransformerModel.fromPretrained(base, m, c -> clf, true, 5).model()) {
            Lora.inject(model, LoraConfig.of(4, 8, 0, List.of("query", "value")).withModulesToSave(modulesToSave)
                    .withBaseModel("tiny-org/tiny-bert"), 6).save(dir);
            EncoderInput in = TestBatches.encode(m, TINY.tokenizer(), List.of("a pooled sentence", "and another one"), 0, 0);
            NDArray logits = model.logits(in, false);
            logitsOut[0] = logits.toFloatArray();
            return in;
        }
    }

    @Test
    void baseWithoutPoolerAndAdapterWithoutPoolerIsRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            Path dir = tmp.resolve("adapter");
            adapter(withPooler, List.of("classifier", "score"), dir, m, new float[1][]);
            CheckpointException e = assertThrows(CheckpointException.class, () -> TextClassifier.loadAdapted(withoutPooler, dir, m));
            String msg = e.getMessage();
            assertTrue(msg.contains("has no pooler weights") && msg.contains("bert.pooler.dense.weight"), msg);
            assertTrue(msg.contains("modules_to_save=[\"pooler\"]") && msg.contains("--pooling cls"), msg);
            assertTrue(msg.contains("--model tiny-org/tiny-bert@main downloads the original"), msg);
        }
    }

    @Test
    void adapterThatSavesThePoolerLoadsOntoABaseWithout() {
        try (NDManager m = NDManager.newBaseManager()) {
            Path dir = tmp.resolve("adapter-pooler");
            float[][] want = new float[1][];
            EncoderInput in = adapter(withPooler, List.of("classifier", "score", "pooler"), dir, m, want);
            try (TransformerModel loaded = TextClassifier.loadAdapted(withoutPooler, dir, m).model()) {
                float[] got = loaded.logits(in, false).toFloatArray();
                for (int i = 0; i < want[0].length; i++) {
                    assertEquals(want[0][i], got[i], 0f, "the adapter's pooler and head replace the missing ones exactly");
                }
            }
        }
    }

    @Test
    void baseWithPoolerNeedsNoneInTheAdapter() {
        try (NDManager m = NDManager.newBaseManager()) {
            Path dir = tmp.resolve("adapter");
            float[][] want = new float[1][];
            EncoderInput in = adapter(withPooler, List.of("classifier", "score"), dir, m, want);
            try (TransformerModel loaded = TextClassifier.loadAdapted(withPooler, dir, m).model()) {
                float[] got = loaded.logits(in, false).toFloatArray();
                for (int i = 0; i < want[0].length; i++) {
                    assertEquals(want[0][i], got[i], 0f);
                }
            }
        }
    }
}
