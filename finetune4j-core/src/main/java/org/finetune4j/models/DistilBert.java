package org.finetune4j.models;

import static org.finetune4j.nn.Functional.scalar;
import static org.finetune4j.nn.Functional.scoped;

import static org.finetune4j.nn.Functional.feedForward;
import static org.finetune4j.nn.Functional.dropout;
import static org.finetune4j.nn.Functional.activation;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.DistilBertConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.nn.Embedding;
import org.finetune4j.nn.StepGradients;
import org.finetune4j.nn.LayerNorm;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * DistilBERT (Sanh et al. 2019) as transformers' modeling_distilbert.py builds it: no token types, no
 * pooler, {@code q_lin/k_lin/v_lin/out_lin}, {@code sa_layer_norm}, {@code ffn.lin1/lin2},
 * {@code output_layer_norm}. Shapes: B batch, T tokens, H = dim, nh heads, hs = H / nh, I = hidden_dim.
 */
public final class DistilBert implements Encoder {

    /** Word + position embeddings, LayerNorm, dropout (Embeddings). */
    static final class Embeddings {
        final Embedding wordEmbeddings; // (vocab, H)
        final Embedding positionEmbeddings; // (max_pos, H)
        final LayerNorm layerNorm;
        final double dropoutP;

        Embeddings(ParameterStore s, String p, DistilBertConfig c) {
            wordEmbeddings = new Embedding(s, p + "word_embeddings", c.vocabSize(), c.dim(), c.initializerRange(), c.padTokenId());
            positionEmbeddings = new Embedding(s, p + "position_embeddings", c.maxPositionEmbeddings(), c.dim(), c.initializerRange(), -1);
            layerNorm = new LayerNorm(s, p + "LayerNorm", c.dim(), DistilBertConfig.LAYER_NORM_EPS);
            dropoutP = c.dropout();
        }

        /** ids (B, T) or (N), positions (T) or (N) -> (B, T, H) or (N, H). rows: see {@link EncoderInput}. */
        NDArray forward(NDArray ids, NDArray positions, StepGradients rows, boolean training) {
            NDArray x = wordEmbeddings.forward(ids, rows).add(positionEmbeddings.forward(positions, rows)); // (B, T, H)
            return dropout(layerNorm.forward(x), dropoutP, training); // (B, T, H)
        }
    }

    /** MultiHeadSelfAttention: queries scaled before the product, as in the reference. */
    static final class Attention {
        final Linear qLin; // H -> H
        final Linear kLin; // H -> H
        final Linear vLin; // H -> H
        final Linear outLin; // H -> H
        final int numHeads;
        final int headSize;
        final double dropoutP;

        Attention(ParameterStore s, String p, DistilBertConfig c) {
            qLin = new Linear(s, p + "q_lin", c.dim(), c.dim(), true, c.initializerRange());
            kLin = new Linear(s, p + "k_lin", c.dim(), c.dim(), true, c.initializerRange());
            vLin = new Linear(s, p + "v_lin", c.dim(), c.dim(), true, c.initializerRange());
            outLin = new Linear(s, p + "out_lin", c.dim(), c.dim(), true, c.initializerRange());
            numHeads = c.nHeads();
            headSize = c.headDim();
            dropoutP = c.attentionDropout();
        }

        /** x (B, T, H) or packed (N, H) -> the same shape. */
        NDArray forward(NDArray x, TokenLayout layout, boolean training) {
            NDArray q = qLin.forward(x, training); // (..., H)
            q = q.div(scalar(q, Math.sqrt(headSize))); // (..., H)
            NDArray k = kLin.forward(x, training); // (..., H)
            NDArray v = vLin.forward(x, training); // (..., H)
            NDArray context = layout.attention(q, k, v, numHeads, headSize, scores -> scores, dropoutP, training); // (..., H)
            return outLin.forward(context, training); // (..., H)
        }
    }

    /** TransformerBlock: attention, residual, sa_layer_norm; FFN, dropout, residual, output_layer_norm. */
    static final class Block {
        final Attention attention;
        final LayerNorm saLayerNorm;
        final Linear lin1; // ffn.lin1, H -> I
        final Linear lin2; // ffn.lin2, I -> H
        final LayerNorm outputLayerNorm;
        final String act;
        final double dropoutP;

        Block(ParameterStore s, String p, DistilBertConfig c) {
            attention = new Attention(s, p + "attention.", c);
            saLayerNorm = new LayerNorm(s, p + "sa_layer_norm", c.dim(), DistilBertConfig.LAYER_NORM_EPS);
            lin1 = new Linear(s, p + "ffn.lin1", c.dim(), c.hiddenDim(), true, c.initializerRange());
            lin2 = new Linear(s, p + "ffn.lin2", c.hiddenDim(), c.dim(), true, c.initializerRange());
            outputLayerNorm = new LayerNorm(s, p + "output_layer_norm", c.dim(), DistilBertConfig.LAYER_NORM_EPS);
            act = c.activation();
            dropoutP = c.dropout();
        }

        /** x (B, T, H) or packed (N, H) -> the same shape. */
        NDArray forward(NDArray x, TokenLayout layout, boolean training) {
            NDArray sa = saLayerNorm.forward(attention.forward(x, layout, training).add(x)); // (..., H)
            NDArray ffn = feedForward(lin1, act, lin2, sa, training); // (B, T, H)
            return outputLayerNorm.forward(dropout(ffn, dropoutP, training).add(sa)); // (B, T, H)
        }
    }

    // ---------------------------------------------------------------------------------------------

    private final DistilBertConfig config;
    private final String prefix;
    private final Embeddings embeddings;
    private final List<Block> layers = new ArrayList<>();

    /** @param prefix "" for a bare DistilBertModel, "distilbert." inside DistilBertForSequenceClassification */
    public DistilBert(ParameterStore store, String prefix, DistilBertConfig config) {
        this.config = config;
        this.prefix = prefix;
        this.embeddings = new Embeddings(store, prefix + "embeddings.", config);
        for (int i = 0; i < config.nLayers(); i++) {
            layers.add(new Block(store, prefix + "transformer.layer." + i + ".", config));
        }
    }

    @Override
    public EncoderOutput forward(EncoderInput in, TokenLayout layout, boolean training) {
        NDArray ids = layout.tokens(in.inputIds()); // (B, T) or (N)
        NDArray x = embeddings.forward(ids, layout.positionIds(ids.getManager()), in.stepGradients(), training); // (B, T, H) or (N, H)
        for (Block block : layers) {
            x = scoped(x, h -> block.forward(h, layout, training)); // (B, T, H) or (N, H)
        }
        return new EncoderOutput(layout.toBatch(x), null); // (B, T, H)
    }

    @Override
    public DistilBertConfig config() {
        return config;
    }

    @Override
    public List<Linear> linears() {
        List<Linear> out = new ArrayList<>();
        for (Block b : layers) {
            out.addAll(List.of(b.attention.qLin, b.attention.kLin, b.attention.vLin, b.attention.outLin, b.lin1, b.lin2));
        }
        return out;
    }

    @Override
    public String basePrefix() {
        return "distilbert.";
    }

    @Override
    public String prefix() {
        return prefix;
    }

    @Override
    public String layerPrefix(int i) {
        return prefix + "transformer.layer." + i + ".";
    }

    @Override
    public boolean isIgnorableKey(String key) {
        // DistilBertForMaskedLM's vocabulary head, and the position_ids buffer.
        return key.endsWith("embeddings.position_ids") || key.startsWith("vocab_transform.")
                || key.startsWith("vocab_layer_norm.") || key.startsWith("vocab_projector.");
    }

    // ---- DistilBertForSequenceClassification -------------------------------------------------------

    /**
     * DistilBertForSequenceClassification's head (HeadConfig type {@code mlp}): pre_classifier ->
     * activation -> dropout -> classifier, on the pooled features (B, F). DistilBERT's own has width
     * hidden = F = dim, ReLU, and pools the first token; the same module with another width, activation
     * or pooling is the notebook's custom head (HeadConfig.mlp), on any encoder. Its keys are top-level:
     * pre_classifier.weight (hidden, F), pre_classifier.bias (hidden), classifier.weight (C, hidden),
     * classifier.bias (C).
     */
    static final class ClassificationHead implements Heads.Head {
        final Linear preClassifier; // F -> hidden
        final Linear classifier; // hidden -> C
        final String act;
        final double dropoutP;

        ClassificationHead(ParameterStore s, HeadConfig h, int features, int numLabels, double initStd) {
            preClassifier = new Linear(s, "pre_classifier", features, h.hiddenSize(), true, initStd);
            classifier = new Linear(s, "classifier", h.hiddenSize(), numLabels, true, initStd);
            act = h.activation();
            dropoutP = h.dropout();
        }

        /** features (B, F) -> logits (B, C). */
        @Override
        public NDArray forward(NDArray x, boolean training) {
            NDArray hidden = activation(act, preClassifier.forward(x, training)); // (B, hidden)
            return classifier.forward(dropout(hidden, dropoutP, training), training); // (B, C)
        }

        @Override
        public List<Linear> linears() {
            return List.of(preClassifier, classifier);
        }

        @Override
        public List<String> modulePrefixes() {
            return List.of("pre_classifier.", "classifier.");
        }
    }
}
