package org.finetune4j.train;

import java.nio.file.Path;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.WeightFiles;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.text.TextTokenizer;

/** Checkpoints as whole Hugging Face model directories (full, partial and frozen strategies). */
public final class ModelCheckpointFormat implements CheckpointFormat {
    private final TransformerModel model;
    private final TextTokenizer tokenizer;
    private final Path tokenizerSource;

    /** @param tokenizerSource the base model directory, whose vocab.txt / special_tokens_map.json are copied */
    public ModelCheckpointFormat(TransformerModel model, TextTokenizer tokenizer, Path tokenizerSource) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.tokenizerSource = tokenizerSource;
    }

    @Override
    public void save(Path dir) {
        model.save(dir);
        tokenizer.save(dir, tokenizerSource);
    }

    @Override
    public void restore(Path dir) {
        try (WeightFiles w = WeightFiles.open(dir)) {
            for (Param p : model.parameters().params().values()) {
                if (!w.contains(p.name())) {
                    throw new CheckpointException(dir + ": the checkpoint lacks " + p.name()
                            + "; it was written for another model or strategy");
                }
                model.parameters().set(p.name(), w.get(p.name()));
            }
        }
    }
}
