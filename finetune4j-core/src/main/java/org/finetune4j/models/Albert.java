package org.finetune4j.models;

import static org.finetune4j.nn.Functional.dropout;
import static org.finetune4j.nn.Functional.feedForward;
import static org.finetune4j.nn.Functional.scalar;
import static org.finetune4j.nn.Functional.scoped;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.AlbertConfig;
import org.finetune4j.nn.Embedding;
import org.finetune4j.nn.StepGradients;
import org.finetune4j.nn.LayerNorm;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * ALBERT (Lan et al. 2020) as transformers' modeling_albert.py builds it. Two parameter reductions over
 * BERT (section 3.1 of the paper): factorised embeddings, E wide and projected to H by
 * encoder.embedding_hidden_mapping_in; and shared layers, num_hidden_layers layers running the weights of
 * num_hidden_groups layer groups (one group in every released checkpoint, so every layer runs the same
 * weights). A shared weight is one parameter used several times: autograd sums its gradients over the uses,
 * as PyTorch does for the shared module (AlbertSharedLayersTest). Parameter names are AlbertModel's
 * state-dict keys. Shapes: B batch, T tokens, E embedding size, H hidden, nh heads, hs head size, I
 * intermediate.
 */
public final class Albert implements Encoder {

    /**
     * Word + position + token-type embeddings, E wide, then LayerNorm (E) and dropout (AlbertEmbeddings;
     * copied from {@link Bert.Embeddings} with E for H).
     */
    static final class Embeddings {
        final Embedding wordEmbeddings; // (vocab, E)
        final Embedding positionEmbeddings; // (max_pos, E)
        final Embedding tokenTypeEmbeddings; // (type_vocab, E)
        final LayerNorm layerNorm;
        final double dropoutP;

        Embeddings(ParameterStore s, String p, AlbertConfig c) {
            wordEmbeddings = new Embedding(s, p + "word_embeddings", c.vocabSize(), c.embeddingSize(), c.initializerRange(), c.padTokenId());
            positionEmbeddings = new Embedding(s, p + "position_embeddings", c.maxPositionEmbeddings(), c.embeddingSize(), c.initializerRange(), -1);
            tokenTypeEmbeddings = new Embedding(s, p + "token_type_embeddings", c.typeVocabSize(), c.embeddingSize(), c.initializerRange(), -1);
            layerNorm = new LayerNorm(s, p + "LayerNorm", c.embeddingSize(), c.layerNormEps());
            dropoutP = c.hiddenDropout();
        }

        /** positionIds (B, T) or (T); tokenTypeIds (B, T) or null -> (B, T, E). rows: see {@link EncoderInput}. */
        NDArray forward(NDArray inputIds, NDArray positionIds, NDArray tokenTypeIds, StepGradients rows, boolean training) {
            NDManager m = inputIds.getManager();
            if (tokenTypeIds == null) {
                tokenTypeIds = m.zeros(inputIds.getShape(), DataType.INT64); // (B, T)
            }
            NDArray x = wordEmbeddings.forward(inputIds, rows); // (B, T, E)
            x = x.add(tokenTypeEmbeddings.forward(tokenTypeIds, rows)); // (B, T, E)
            x = x.add(positionEmbeddings.forward(positionIds, rows)); // (B, T, E) (broadcast over B for (T) ids)
            x = layerNorm.forward(x); // (B, T, E)
            return dropout(x, dropoutP, training);
        }
    }

    /**
     * Self-attention, its output projection and the residual LayerNorm in one module (AlbertAttention):
     * LayerNorm(x + dropout(dense(attention(x)))).
     */
    static final class AlbertAttention {
        final Linear query; // H -> H
        final Linear key; // H -> H
        final Linear value; // H -> H
        final Linear dense; // H -> H
        final LayerNorm layerNorm;
        final int numHeads;
        final int headSize;
        final double attentionDropoutP;
        final double outputDropoutP;

        AlbertAttention(ParameterStore s, String p, AlbertConfig c) {
            query = new Linear(s, p + "query", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            key = new Linear(s, p + "key", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            value = new Linear(s, p + "value", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            dense = new Linear(s, p + "dense", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            layerNorm = new LayerNorm(s, p + "LayerNorm", c.hiddenSize(), c.layerNormEps());
            numHeads = c.numHeads();
            headSize = c.headDim();
            attentionDropoutP = c.attentionDropout();
            outputDropoutP = c.hiddenDropout();
        }

        /** x (B, T, H) or packed (N, H) -> the same shape. */
        NDArray forward(NDArray x, TokenLayout layout, boolean training) {
            NDArray q = query.forward(x, training); // (..., H)
            NDArray k = key.forward(x, training); // (..., H)
            NDArray v = value.forward(x, training); // (..., H)
            NDArray context = layout.attention(q, k, v, numHeads, headSize,
                    scores -> scores.div(scalar(scores, Math.sqrt(headSize))), attentionDropoutP, training); // (..., H)
            NDArray projected = dropout(dense.forward(context, training), outputDropoutP, training); // (..., H)
            return layerNorm.forward(x.add(projected)); // (..., H)
        }
    }

    /**
     * One ALBERT layer (AlbertLayer): attention, then full_layer_layer_norm(a + ffn_output(act(ffn(a)))).
     * transformers applies no dropout to the feed-forward output here (AlbertLayer.ff_chunk).
     */
    static final class Layer {
        final AlbertAttention attention; // attention.*
        final Linear ffn; // H -> I
        final Linear ffnOutput; // I -> H
        final LayerNorm fullLayerLayerNorm;
        final String act;

        Layer(ParameterStore s, String p, AlbertConfig c) {
            attention = new AlbertAttention(s, p + "attention.", c);
            ffn = new Linear(s, p + "ffn", c.hiddenSize(), c.intermediateSize(), true, c.initializerRange());
            ffnOutput = new Linear(s, p + "ffn_output", c.intermediateSize(), c.hiddenSize(), true, c.initializerRange());
            fullLayerLayerNorm = new LayerNorm(s, p + "full_layer_layer_norm", c.hiddenSize(), c.layerNormEps());
            act = c.hiddenAct();
        }

        /** x (B, T, H) or packed (N, H) -> the same shape. */
        NDArray forward(NDArray x, TokenLayout layout, boolean training) {
            NDArray a = attention.forward(x, layout, training); // (..., H)
            NDArray f = feedForward(ffn, act, ffnOutput, a, training); // (..., H), through (..., I)
            return fullLayerLayerNorm.forward(f.add(a)); // (..., H)
        }

        void collectLinears(List<Linear> out) {
            out.add(attention.query);
            out.add(attention.key);
            out.add(attention.value);
            out.add(attention.dense);
            out.add(ffn);
            out.add(ffnOutput);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private final AlbertConfig config;
    private final String prefix;
    private final Embeddings embeddings;
    private final Linear embeddingHiddenMappingIn; // E -> H
    private final List<List<Layer>> groups = new ArrayList<>(); // num_hidden_groups x inner_group_num
    private final Linear pooler; // H -> H, or null

    /**
     * @param prefix "" for a bare AlbertModel, "albert." inside AlbertForSequenceClassification
     * @param withPooler false when the head does not use the pooler (its weights are then not expected)
     */
    public Albert(ParameterStore store, String prefix, AlbertConfig config, boolean withPooler) {
        this.config = config;
        this.prefix = prefix;
        this.embeddings = new Embeddings(store, prefix + "embeddings.", config);
        this.embeddingHiddenMappingIn = new Linear(store, prefix + "encoder.embedding_hidden_mapping_in", config.embeddingSize(),
                config.hiddenSize(), true, config.initializerRange());
        for (int g = 0; g < config.numHiddenGroups(); g++) {
            List<Layer> group = new ArrayList<>();
            for (int j = 0; j < config.innerGroupNum(); j++) {
                group.add(new Layer(store, groupPrefix(g) + "albert_layers." + j + ".", config));
            }
            groups.add(group);
        }
        this.pooler = withPooler ? new Linear(store, prefix + "pooler", config.hiddenSize(), config.hiddenSize(), true,
                config.initializerRange()) : null;
    }

    private String groupPrefix(int g) {
        return prefix + "encoder.albert_layer_groups." + g + ".";
    }

    @Override
    public EncoderOutput forward(EncoderInput in, TokenLayout layout, boolean training) {
        NDArray ids = layout.tokens(in.inputIds()); // (B, T) or (N)
        NDArray positions = layout.positionIds(ids.getManager()); // (T) or (N)
        NDArray types = in.tokenTypeIds() == null ? null : layout.tokens(in.tokenTypeIds()); // (B, T) or (N)
        NDArray e = embeddings.forward(ids, positions, types, in.stepGradients(), training); // (B, T, E) or (N, E)
        NDArray x = embeddingHiddenMappingIn.forward(e, training); // (B, T, H) or (N, H)
        // AlbertTransformer: layer i runs group floor(i / (num_hidden_layers / num_hidden_groups)).
        for (int i = 0; i < config.numLayers(); i++) {
            for (Layer layer : groups.get(config.groupOfLayer(i))) {
                x = scoped(x, h -> layer.forward(h, layout, training)); // (B, T, H) or (N, H)
            }
        }
        x = layout.toBatch(x); // (B, T, H)
        return new EncoderOutput(x, pooler == null ? null : pooler(x.get(":, 0, :"), training)); // (B, T, H), (B, H)
    }

    /** AlbertModel's pooler_activation(pooler(h[:, 0])): first-token states (B, H) -> (B, H). */
    @Override
    public NDArray pooler(NDArray firstToken, boolean training) {
        if (pooler == null) {
            return Encoder.super.pooler(firstToken, training);
        }
        return pooler.forward(firstToken, training).tanh(); // (B, H)
    }

    @Override
    public AlbertConfig config() {
        return config;
    }

    /** Every linear layer once, however many layers share it. */
    @Override
    public List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        out.add(embeddingHiddenMappingIn);
        groups.forEach(g -> g.forEach(l -> l.collectLinears(out)));
        if (pooler != null) {
            out.add(pooler);
        }
        return out;
    }

    @Override
    public String basePrefix() {
        return "albert.";
    }

    @Override
    public String prefix() {
        return prefix;
    }

    /**
     * The weights layer i runs: its layer group. Layers that share a group share this prefix, so
     * freezing by layer cannot split them (Strategies refuses such a --frozen-layers).
     */
    @Override
    public String layerPrefix(int i) {
        return groupPrefix(config.groupOfLayer(i));
    }

    /**
     * The E-wide embedding tables and their LayerNorm. The projection to H,
     * encoder.embedding_hidden_mapping_in, lies outside this prefix as it does in the checkpoint.
     */
    @Override
    public boolean isIgnorableKey(String key) {
        // Buffers, the pre-training heads of AlbertForPreTraining / AlbertForMaskedLM, and an unused pooler.
        boolean unusedPooler = pooler == null && (key.endsWith("pooler.weight") || key.endsWith("pooler.bias"));
        return key.endsWith("embeddings.position_ids") || key.endsWith("embeddings.token_type_ids")
                || key.startsWith("predictions.") || key.startsWith("sop_classifier.") || unusedPooler;
    }

    // ---- AlbertForSequenceClassification ------------------------------------------------------------
    //
    // pooler output -> dropout(classifier_dropout_prob) -> classifier (Linear H -> C): BertForSequence-
    // Classification's head under the same keys, so HeadConfig.standard gives ALBERT that head (type
    // "linear" with pooling "pooler", {@link Bert.ClassificationHead}); the pooler itself is above.
    // AlbertParityTest checks the logits against transformers' AlbertForSequenceClassification.
}
