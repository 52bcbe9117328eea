package org.finetune4j.models;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.nn.Linear;

/** A BERT-family encoder: what a classifier, LoRA and the freezing strategies need to know of it. */
public interface Encoder {
    EncoderConfig config();

    /** The forward pass on the layout {@link TokenLayout#of} picks: padded while training, packed at inference. */
    default EncoderOutput forward(EncoderInput input, boolean training) {
        return forward(input, TokenLayout.of(input, training), training);
    }

    /** The forward pass on a given layout of the batch's tokens (tests pass the padded one at inference). */
    EncoderOutput forward(EncoderInput input, TokenLayout layout, boolean training);

    /**
     * The encoder's pooler on first-token states, (B, H) -> (B, H): the step that makes
     * {@link EncoderOutput#pooled()} from the last hidden state. A frozen backbone whose pooler trains
     * caches the first-token states and runs only this step on them.
     *
     * @throws IllegalStateException when the encoder has no pooler
     */
    default NDArray pooler(NDArray firstToken, boolean training) {
        throw new IllegalStateException(config().modelType() + " encoder at \"" + prefix()
                + "\" has no pooler; build it with one (BERT, DeBERTa-v2) or pool with cls or mean");
    }

    /** Every linear layer of the encoder, by module path (the targets LoRA can wrap). */
    List<Linear> linears();


    /** The key prefix of the encoder inside a classification checkpoint: "bert.", "distilbert.", "roberta.". */
    String basePrefix();

    /** The prefix of this encoder's own parameter names: {@link #basePrefix()} inside a classifier, "" alone. */
    String prefix();

    /** The parameter-name prefix of the pooler: "bert.pooler."; DeBERTa's ContextPooler is a top-level "pooler.". */
    default String poolerPrefix() {
        return prefix() + "pooler.";
    }

    /** The parameter-name prefix of layer i (0 = lowest), e.g. "bert.encoder.layer.3.". */
    default String layerPrefix(int i) {
        return prefix() + "encoder.layer." + i + ".";
    }

    /** The parameter-name prefix of the embeddings, e.g. "bert.embeddings.". */
    default String embeddingsPrefix() {
        return prefix() + "embeddings.";
    }

    /** Checkpoint keys this encoder never uses but checkpoints often carry (buffers, pre-training heads). */
    boolean isIgnorableKey(String key);
}
