package org.finetune4j.train;

import java.nio.file.Path;
import java.util.Map;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.lora.Lora;
import org.finetune4j.text.TextTokenizer;

/**
 * Checkpoints of a LoRA run: the PEFT adapter (adapter_config.json, adapter_model.safetensors), the
 * classifier's config (labels, head) and the tokenizer. The base model is not copied.
 */
public final class AdapterCheckpointFormat implements CheckpointFormat {
    public static final String CLASSIFIER_CONFIG = "classifier_config.json";
    private final Lora lora;
    private final TextTokenizer tokenizer;
    private final Path tokenizerSource;

    public AdapterCheckpointFormat(Lora lora, TextTokenizer tokenizer, Path tokenizerSource) {
        this.lora = lora;
        this.tokenizer = tokenizer;
        this.tokenizerSource = tokenizerSource;
    }

    @Override
    public void save(Path dir) {
        lora.save(dir);
        AtomicFiles.writeString(dir.resolve(CLASSIFIER_CONFIG), lora.model().config().toJson());
        tokenizer.save(dir, tokenizerSource);
    }

    @Override
    public void restore(Path dir) {
        Map<String, HostTensor> saved = SafeTensors.readFile(dir.resolve(Lora.WEIGHTS_FILE));
        var params = lora.model().parameters();
        for (String name : params.params().keySet()) {
            if (!lora.saved(name)) {
                continue;
            }
            HostTensor t = saved.get(Lora.PEFT_PREFIX + name);
            if (t == null) {
                throw new CheckpointException(dir + ": the adapter checkpoint lacks " + name);
            }
            params.set(name, t);
        }
    }
}
