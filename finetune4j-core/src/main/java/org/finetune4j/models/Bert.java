package org.finetune4j.models;

import static org.finetune4j.nn.Functional.scalar;
import static org.finetune4j.nn.Functional.scoped;

import static org.finetune4j.nn.Functional.feedForward;
import static org.finetune4j.nn.Functional.dropout;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.nn.Embedding;
import org.finetune4j.nn.StepGradients;
import org.finetune4j.nn.LayerNorm;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * BERT (Devlin et al. 2019) as transformers' modeling_bert.py builds it; also MiniLM and BGE, which are
 * BERT checkpoints. Parameter names are the state-dict keys of BertModel, so a checkpoint loads
 * name for name. Shapes: B batch, T tokens, H hidden, nh heads, hs head size (H / nh), I intermediate.
 */
public final class Bert implements Encoder {

    /** Word + position + token-type embeddings, then LayerNorm and dropout (BertEmbeddings). */
    static final class Embeddings {
        final Embedding wordEmbeddings; // (vocab, H)
        final Embedding positionEmbeddings; // (max_pos, H)
        final Embedding tokenTypeEmbeddings; // (type_vocab, H)
        final LayerNorm layerNorm;
        final double dropoutP;

        /** @param positionPadding the padding row of the position table, or -1: BERT's has none, RoBERTa's has one */
        Embeddings(ParameterStore s, String p, BertConfig c, int positionPadding) {
            wordEmbeddings = new Embedding(s, p + "word_embeddings", c.vocabSize(), c.hiddenSize(), c.initializerRange(), c.padTokenId());
            positionEmbeddings = new Embedding(s, p + "position_embeddings", c.maxPositionEmbeddings(), c.hiddenSize(), c.initializerRange(), positionPadding);
            tokenTypeEmbeddings = new Embedding(s, p + "token_type_embeddings", c.typeVocabSize(), c.hiddenSize(), c.initializerRange(), -1);
            layerNorm = new LayerNorm(s, p + "LayerNorm", c.hiddenSize(), c.layerNormEps());
            dropoutP = c.hiddenDropout();
        }

        /** positionIds (B, T) or (T); tokenTypeIds (B, T) or null -> (B, T, H). rows: see {@link EncoderInput}. */
        NDArray forward(NDArray inputIds, NDArray positionIds, NDArray tokenTypeIds, StepGradients rows, boolean training) {
            NDManager m = inputIds.getManager();
            if (tokenTypeIds == null) {
                tokenTypeIds = m.zeros(inputIds.getShape(), DataType.INT64); // (B, T)
            }
            NDArray x = wordEmbeddings.forward(inputIds, rows); // (B, T, H)
            x = x.add(tokenTypeEmbeddings.forward(tokenTypeIds, rows)); // (B, T, H)
            x = x.add(positionEmbeddings.forward(positionIds, rows)); // (B, T, H) (broadcast over B for (T) ids)
            x = layerNorm.forward(x); // (B, T, H)
            return dropout(x, dropoutP, training);
        }
    }

    /** Scaled dot-product self-attention over all heads (BertSelfAttention). */
    static final class SelfAttention {
        final Linear query; // H -> H
        final Linear key; // H -> H
        final Linear value; // H -> H
        final int numHeads;
        final int headSize;
        final double dropoutP;

        SelfAttention(ParameterStore s, String p, BertConfig c) {
            query = new Linear(s, p + "query", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            key = new Linear(s, p + "key", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            value = new Linear(s, p + "value", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            numHeads = c.numHeads();
            headSize = c.headDim();
            dropoutP = c.attentionDropout();
        }

        /** x (B, T, H) or packed (N, H) -> context of the same shape. */
        NDArray forward(NDArray x, TokenLayout layout, boolean training) {
            NDArray q = query.forward(x, training); // (..., H)
            NDArray k = key.forward(x, training); // (..., H)
            NDArray v = value.forward(x, training); // (..., H)
            return layout.attention(q, k, v, numHeads, headSize, scores -> scores.div(scalar(scores, Math.sqrt(headSize))),
                    dropoutP, training); // (..., H)
        }
    }

    /** Dense -> dropout -> residual -> LayerNorm: BertSelfOutput and BertOutput have this same shape. */
    static final class ResidualOutput {
        final Linear dense; // in -> H
        final LayerNorm layerNorm;
        final double dropoutP;

        ResidualOutput(ParameterStore s, String p, long in, BertConfig c) {
            dense = new Linear(s, p + "dense", in, c.hiddenSize(), true, c.initializerRange());
            layerNorm = new LayerNorm(s, p + "LayerNorm", c.hiddenSize(), c.layerNormEps());
            dropoutP = c.hiddenDropout();
        }

        /** x (B, T, in), residual (B, T, H) -> (B, T, H). */
        NDArray forward(NDArray x, NDArray residual, boolean training) {
            return finish(dense.forward(x, training), residual, training); // (B, T, H)
        }

        /** The rest once dense has run: dense output y (B, T, H), residual (B, T, H) -> (B, T, H). */
        NDArray finish(NDArray y, NDArray residual, boolean training) {
            NDArray h = dropout(y, dropoutP, training); // (B, T, H)
            return layerNorm.forward(h.add(residual)); // (B, T, H)
        }
    }

    /** One transformer layer (BertLayer): attention block, then feed-forward block, each post-LN. */
    static final class Layer {
        final SelfAttention attention; // attention.self.*
        final ResidualOutput attentionOutput; // attention.output.*
        final Linear intermediate; // intermediate.dense, H -> I
        final ResidualOutput output; // output.*, I -> H
        final String act;

        Layer(ParameterStore s, String p, BertConfig c) {
            attention = new SelfAttention(s, p + "attention.self.", c);
            attentionOutput = new ResidualOutput(s, p + "attention.output.", c.hiddenSize(), c);
            intermediate = new Linear(s, p + "intermediate.dense", c.hiddenSize(), c.intermediateSize(), true, c.initializerRange());
            output = new ResidualOutput(s, p + "output.", c.intermediateSize(), c);
            act = c.hiddenAct();
        }

        /** x (B, T, H) or packed (N, H) -> the same shape. */
        NDArray forward(NDArray x, TokenLayout layout, boolean training) {
            NDArray h = attentionOutput.forward(attention.forward(x, layout, training), x, training); // (..., H)
            NDArray ffn = feedForward(intermediate, act, output.dense, h, training); // (..., H), through (..., I)
            return output.finish(ffn, h, training); // (..., H)
        }

        void collectLinears(List<Linear> out) {
            out.add(attention.query);
            out.add(attention.key);
            out.add(attention.value);
            out.add(attentionOutput.dense);
            out.add(intermediate);
            out.add(output.dense);
        }
    }

    /** tanh(dense(first token)) (BertPooler). */
    static final class Pooler {
        final Linear dense; // H -> H

        Pooler(ParameterStore s, String p, BertConfig c) {
            dense = new Linear(s, p + "dense", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
        }

        /** first-token states (B, H) -> (B, H). */
        NDArray forward(NDArray firstToken, boolean training) {
            return dense.forward(firstToken, training).tanh(); // (B, H)
        }
    }

    // ---------------------------------------------------------------------------------------------

    private final BertConfig config;
    private final String prefix;
    private final Embeddings embeddings;
    private final List<Layer> layers = new ArrayList<>();
    private final Pooler pooler;

    /**
     * @param prefix "" for a bare BertModel, "bert." inside BertForSequenceClassification
     * @param withPooler false when the head does not use the pooler (its weights are then not expected)
     */
    public Bert(ParameterStore store, String prefix, BertConfig config, boolean withPooler) {
        if (!config.modelType().equals("bert")) {
            throw new IllegalArgumentException("Bert needs model_type bert, got " + config.modelType());
        }
        this.config = config;
        this.prefix = prefix;
        this.embeddings = new Embeddings(store, prefix + "embeddings.", config, -1);
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(new Layer(store, prefix + "encoder.layer." + i + ".", config));
        }
        this.pooler = withPooler ? new Pooler(store, prefix + "pooler.", config) : null;
    }

    @Override
    public EncoderOutput forward(EncoderInput in, TokenLayout layout, boolean training) {
        NDArray ids = layout.tokens(in.inputIds()); // (B, T) or (N)
        NDArray positions = layout.positionIds(ids.getManager()); // (T) or (N)
        NDArray types = in.tokenTypeIds() == null ? null : layout.tokens(in.tokenTypeIds()); // (B, T) or (N)
        NDArray x = embeddings.forward(ids, positions, types, in.stepGradients(), training); // (B, T, H) or (N, H)
        x = runLayers(layers, x, in, layout, training); // (B, T, H) or (N, H)
        x = layout.toBatch(x); // (B, T, H)
        return new EncoderOutput(x, pooler == null ? null : pooler.forward(x.get(":, 0, :"), training)); // (B, T, H), (B, H)
    }

    /**
     * The layer stack on x (B, T, H) or packed (N, H), for BERT, RoBERTa and ELECTRA: a full fine-tuning
     * step's padded batch runs the hand-written training pass ({@link FusedBertLayers}), everything
     * else each layer's autograd forward, one layer's intermediates freed at a time.
     */
    static NDArray runLayers(List<Layer> layers, NDArray x, EncoderInput in, TokenLayout layout, boolean training) {
        if (FusedBertLayers.applies(layers, x, layout, in.stepGradients(), training)) {
            return FusedBertLayers.forward(layers, x, in.attentionMask(), in.stepGradients()); // (B, T, H)
        }
        for (Layer layer : layers) {
            x = scoped(x, h -> layer.forward(h, layout, training)); // (B, T, H) or (N, H)
        }
        return x;
    }

    @Override
    public BertConfig config() {
        return config;
    }

    @Override
    public List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        layers.forEach(l -> l.collectLinears(out));
        if (pooler != null) {
            out.add(pooler.dense);
        }
        return out;
    }

    @Override
    public NDArray pooler(NDArray firstToken, boolean training) {
        if (pooler == null) {
            return Encoder.super.pooler(firstToken, training);
        }
        return pooler.forward(firstToken, training); // (B, H)
    }

    @Override
    public String basePrefix() {
        return "bert.";
    }

    @Override
    public String prefix() {
        return prefix;
    }

    @Override
    public boolean isIgnorableKey(String key) {
        // Buffers and the pre-training heads of BertForPreTraining (transformers drops them too).
        boolean unusedPooler = pooler == null && key.contains("pooler.dense.");
        return key.endsWith("embeddings.position_ids") || key.startsWith("cls.") || unusedPooler;
    }

    // ---- BertForSequenceClassification -------------------------------------------------------------

    /**
     * BertForSequenceClassification's head (HeadConfig type {@code linear}): dropout -> classifier, on
     * the pooled features (B, F), F = H. Its keys are top-level: classifier.weight (C, F),
     * classifier.bias (C).
     */
    static final class ClassificationHead implements Heads.Head {
        final Linear classifier; // F -> C
        final double dropoutP;

        ClassificationHead(ParameterStore s, HeadConfig h, int features, int numLabels, double initStd) {
            classifier = new Linear(s, "classifier", features, numLabels, true, initStd);
            dropoutP = h.dropout();
        }

        /** features (B, F) -> logits (B, C). */
        @Override
        public NDArray forward(NDArray x, boolean training) {
            return classifier.forward(dropout(x, dropoutP, training), training); // (B, C)
        }

        @Override
        public List<Linear> linears() {
            return List.of(classifier);
        }

        @Override
        public List<String> modulePrefixes() {
            return List.of("classifier.");
        }
    }
}
