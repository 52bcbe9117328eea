package org.finetune4j.models;

import static org.finetune4j.nn.Functional.dropout;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.ElectraConfig;
import org.finetune4j.nn.Embedding;
import org.finetune4j.nn.StepGradients;
import org.finetune4j.nn.LayerNorm;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * ELECTRA's discriminator (Clark et al. 2020) as transformers' modeling_electra.py builds it. Its
 * embeddings are E = embedding_size wide and, when E differs from the hidden size H (electra-small: 128
 * and 256), a Linear {@code embeddings_project} maps them to H before the layers. The layers are BERT's
 * (ElectraLayer is "Copied from transformers.models.bert.modeling_bert.BertLayer"), so they are reused
 * from {@link Bert}. There is no pooler: the classification head reads the first token itself.
 * Parameter names are ElectraModel's state-dict keys. Shapes: B batch, T tokens, E embedding width,
 * H hidden.
 */
public final class Electra implements Encoder {

    /**
     * Word + position + token-type embeddings, then LayerNorm and dropout, all E wide (ElectraEmbeddings).
     * Copied from {@code Bert.Embeddings} with the width E instead of H; positions are 0..T-1 as in BERT.
     */
    static final class Embeddings {
        final Embedding wordEmbeddings; // (vocab, E)
        final Embedding positionEmbeddings; // (max_pos, E)
        final Embedding tokenTypeEmbeddings; // (type_vocab, E)
        final LayerNorm layerNorm;
        final double dropoutP;

        Embeddings(ParameterStore s, String p, ElectraConfig c) {
            int e = c.embeddingSize();
            wordEmbeddings = new Embedding(s, p + "word_embeddings", c.vocabSize(), e, c.initializerRange(), c.padTokenId());
            positionEmbeddings = new Embedding(s, p + "position_embeddings", c.maxPositionEmbeddings(), e, c.initializerRange(), -1);
            tokenTypeEmbeddings = new Embedding(s, p + "token_type_embeddings", c.typeVocabSize(), e, c.initializerRange(), -1);
            layerNorm = new LayerNorm(s, p + "LayerNorm", e, c.layerNormEps());
            dropoutP = c.hiddenDropout();
        }

        /** positionIds (T) or (N); tokenTypeIds (B, T) or null -> (B, T, E). rows: see {@link EncoderInput}. */
        NDArray forward(NDArray inputIds, NDArray positionIds, NDArray tokenTypeIds, StepGradients rows, boolean training) {
            NDManager m = inputIds.getManager();
            if (tokenTypeIds == null) {
                tokenTypeIds = m.zeros(inputIds.getShape(), DataType.INT64); // (B, T)
            }
            NDArray x = wordEmbeddings.forward(inputIds, rows); // (B, T, E)
            x = x.add(tokenTypeEmbeddings.forward(tokenTypeIds, rows)); // (B, T, E)
            x = x.add(positionEmbeddings.forward(positionIds, rows)); // (B, T, E) (broadcast over B for (T) ids)
            x = layerNorm.forward(x); // (B, T, E)
            return dropout(x, dropoutP, training); // (B, T, E)
        }
    }

    // ---------------------------------------------------------------------------------------------

    private final ElectraConfig config;
    private final String prefix;
    private final Embeddings embeddings;
    private final Linear embeddingsProject; // E -> H, or null when E = H (then the checkpoint has no such weights)
    private final List<Bert.Layer> layers = new ArrayList<>();

    /** @param prefix "" for a bare ElectraModel, "electra." inside ElectraForSequenceClassification */
    public Electra(ParameterStore store, String prefix, ElectraConfig config) {
        this.config = config;
        this.prefix = prefix;
        this.embeddings = new Embeddings(store, prefix + "embeddings.", config);
        this.embeddingsProject = config.projectsEmbeddings()
                ? new Linear(store, prefix + "embeddings_project", config.embeddingSize(), config.hiddenSize(), true,
                        config.initializerRange())
                : null;
        BertConfig layerSizes = config.layerConfig();
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(new Bert.Layer(store, layerPrefix(i), layerSizes));
        }
    }

    @Override
    public EncoderOutput forward(EncoderInput in, TokenLayout layout, boolean training) {
        NDArray ids = layout.tokens(in.inputIds()); // (B, T) or (N)
        NDArray positions = layout.positionIds(ids.getManager()); // (T) or (N)
        NDArray types = in.tokenTypeIds() == null ? null : layout.tokens(in.tokenTypeIds()); // (B, T) or (N)
        NDArray x = embeddings.forward(ids, positions, types, in.stepGradients(), training); // (B, T, E) or (N, E)
        if (embeddingsProject != null) {
            x = embeddingsProject.forward(x, training); // (B, T, H) or (N, H)
        }
        x = Bert.runLayers(layers, x, in, layout, training); // (B, T, H) or (N, H)
        return new EncoderOutput(layout.toBatch(x), null); // (B, T, H)
    }

    @Override
    public ElectraConfig config() {
        return config;
    }

    @Override
    public List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        if (embeddingsProject != null) {
            out.add(embeddingsProject); // a Linear module in PEFT's eyes too: all-linear wraps it
        }
        layers.forEach(l -> l.collectLinears(out));
        return out;
    }

    @Override
    public String basePrefix() {
        return "electra.";
    }

    @Override
    public String prefix() {
        return prefix;
    }

    /**
     * "electra.embeddings", without the dot, so that it also covers {@code embeddings_project}: the
     * projection belongs to the embedding stage (it runs before layer 0), and partial training freezes
     * it with the embeddings.
     */
    @Override
    public String embeddingsPrefix() {
        return prefix + "embeddings";
    }

    @Override
    public boolean isIgnorableKey(String key) {
        // The position_ids buffer and the pre-training heads of ElectraForPreTraining (discriminator) and
        // ElectraForMaskedLM (generator), which ElectraForSequenceClassification drops too.
        return key.endsWith("embeddings.position_ids") || key.startsWith("discriminator_predictions.")
                || key.startsWith("generator_predictions.") || key.startsWith("generator_lm_head.");
    }

    // ---- ElectraForSequenceClassification ----------------------------------------------------------
    //
    // ElectraClassificationHead (HeadConfig type "electra"): dropout -> classifier.dense -> GELU -> dropout
    // -> classifier.out_proj on the first token. It has RobertaClassificationHead's layers and keys with the
    // exact erf GELU where RoBERTa uses tanh ("although BERT uses tanh here, it seems Electra authors used
    // gelu here", modeling_electra.py), so Heads runs Roberta.ClassificationHead with HeadConfig's "gelu".
}
