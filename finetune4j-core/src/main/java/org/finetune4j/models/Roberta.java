package org.finetune4j.models;

import static org.finetune4j.nn.Functional.activation;
import static org.finetune4j.nn.Functional.dropout;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * RoBERTa (Liu et al. 2019) as transformers' modeling_roberta.py builds it. Its layers are BERT's
 * layers (transformers marks them "Copied from BertLayer"), so they are reused from {@link Bert}; what
 * differs is the embeddings: position ids count only real tokens and start at padding_idx + 1
 * (create_position_ids_from_input_ids), and the position table has a padding row.
 *
 * <p>XLM-RoBERTa (Conneau et al. 2020) is this same computation: transformers' modeling_xlm_roberta.py is a
 * copy of modeling_roberta.py ("Copied from ... with Roberta->XLMRoberta"), and its checkpoints keep the
 * prefix "roberta.". It differs only in its config (model_type xlm-roberta, kept so that config.json
 * round-trips) and its SentencePiece tokenizer; golden/xlm-roberta-seqcls checks it.
 */
public final class Roberta implements Encoder {
    private final BertConfig config;
    private final String prefix;
    private final Bert.Embeddings embeddings;
    private final List<Bert.Layer> layers = new ArrayList<>();

    /** @param prefix "" for a bare RobertaModel, "roberta." inside (XLM)RobertaForSequenceClassification */
    public Roberta(ParameterStore store, String prefix, BertConfig config) {
        if (!config.modelType().equals("roberta") && !config.modelType().equals("xlm-roberta")) {
            throw new IllegalArgumentException("Roberta needs model_type roberta or xlm-roberta, got " + config.modelType());
        }
        this.config = config;
        this.prefix = prefix;
        // The position table has a padding row, padding_idx = pad_token_id (RobertaEmbeddings).
        this.embeddings = new Bert.Embeddings(store, prefix + "embeddings.", config, config.padTokenId());
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(new Bert.Layer(store, prefix + "encoder.layer." + i + ".", config));
        }
    }

    @Override
    public EncoderOutput forward(EncoderInput in, TokenLayout layout, boolean training) {
        NDArray ids = layout.tokens(in.inputIds()); // (B, T) or (N)
        NDArray positions = layout.tokens(positionIds(in.inputIds(), config.padTokenId())); // (B, T) or (N)
        NDArray types = in.tokenTypeIds() == null ? null : layout.tokens(in.tokenTypeIds()); // (B, T) or (N)
        NDArray x = embeddings.forward(ids, positions, types, in.stepGradients(), training); // (B, T, H) or (N, H)
        x = Bert.runLayers(layers, x, in, layout, training); // (B, T, H) or (N, H)
        return new EncoderOutput(layout.toBatch(x), null); // (B, T, H)
    }

    /**
     * cumsum(ids != pad) * (ids != pad) + pad: real tokens get pad+1, pad+2, ...; padding gets pad.
     * Public for the golden parity tests, which compare it with transformers' position_ids.
     */
    public static NDArray positionIds(NDArray ids, int pad) {
        NDArray real = ids.neq(pad).toType(DataType.INT64, false); // (B, T)
        return real.cumSum(1).mul(real).add(pad); // (B, T)
    }

    @Override
    public BertConfig config() {
        return config;
    }

    @Override
    public List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        layers.forEach(l -> l.collectLinears(out));
        return out;
    }

    @Override
    public String basePrefix() {
        return "roberta.";
    }

    @Override
    public String prefix() {
        return prefix;
    }

    @Override
    public boolean isIgnorableKey(String key) {
        // RobertaModel's pooler (unused by RobertaForSequenceClassification), the LM head, buffers.
        return key.endsWith("embeddings.position_ids") || key.contains("pooler.dense.") || key.startsWith("lm_head.");
    }

    // ---- RobertaForSequenceClassification ----------------------------------------------------------

    /**
     * RobertaClassificationHead (HeadConfig type {@code roberta}): dropout -> classifier.dense ->
     * activation (tanh) -> dropout -> classifier.out_proj, on the pooled features (B, F), the first token
     * (&lt;s&gt;) in RoBERTa's own. Its keys are top-level: classifier.dense.weight (hidden, F),
     * classifier.dense.bias (hidden), classifier.out_proj.weight (C, hidden), classifier.out_proj.bias (C).
     */
    static final class ClassificationHead implements Heads.Head {
        final Linear dense; // F -> hidden
        final Linear outProj; // hidden -> C
        final String act;
        final double dropoutP;

        ClassificationHead(ParameterStore s, HeadConfig h, int features, int numLabels, double initStd) {
            dense = new Linear(s, "classifier.dense", features, h.hiddenSize(), true, initStd);
            outProj = new Linear(s, "classifier.out_proj", h.hiddenSize(), numLabels, true, initStd);
            act = h.activation();
            dropoutP = h.dropout();
        }

        /** features (B, F) -> logits (B, C). */
        @Override
        public NDArray forward(NDArray x, boolean training) {
            NDArray hidden = activation(act, dense.forward(dropout(x, dropoutP, training), training)); // (B, hidden)
            return outProj.forward(dropout(hidden, dropoutP, training), training); // (B, C)
        }

        @Override
        public List<Linear> linears() {
            return List.of(dense, outProj);
        }

        @Override
        public List<String> modulePrefixes() {
            return List.of("classifier.");
        }
    }
}
