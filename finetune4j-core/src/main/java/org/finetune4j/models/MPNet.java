package org.finetune4j.models;

import static org.finetune4j.nn.Functional.dropout;
import static org.finetune4j.nn.Functional.feedForward;
import static org.finetune4j.nn.Functional.scalar;
import static org.finetune4j.nn.Functional.scoped;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.MPNetConfig;
import org.finetune4j.nn.Embedding;
import org.finetune4j.nn.StepGradients;
import org.finetune4j.nn.LayerNorm;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * MPNet (Song et al. 2020) as transformers' modeling_mpnet.py builds it: the encoder of
 * sentence-transformers' all-mpnet-base-v2. A BERT-shaped post-LN encoder with three differences:
 * RoBERTa-style position ids (padding_idx 1), no token types, and one table of relative-position
 * biases shared by all layers and added to every layer's attention scores (T5's bucketed relative
 * positions, Raffel et al. 2020, section 2.1). Parameter names are MPNetModel's state-dict keys.
 * Shapes: B batch, T tokens, H hidden, nh heads, hs head size (H / nh), I intermediate.
 */
public final class MPNet implements Encoder {

    /** Word + position embeddings, then LayerNorm and dropout (MPNetEmbeddings). */
    static final class Embeddings {
        final Embedding wordEmbeddings; // (vocab, H)
        final Embedding positionEmbeddings; // (max_pos, H)
        final LayerNorm layerNorm;
        final double dropoutP;

        Embeddings(ParameterStore s, String p, MPNetConfig c) {
            // Both tables have padding_idx = 1, hard-coded in MPNetEmbeddings (not pad_token_id).
            wordEmbeddings = new Embedding(s, p + "word_embeddings", c.vocabSize(), c.hiddenSize(), c.initializerRange(),
                    MPNetConfig.PADDING_IDX);
            positionEmbeddings = new Embedding(s, p + "position_embeddings", c.maxPositionEmbeddings(), c.hiddenSize(),
                    c.initializerRange(), MPNetConfig.PADDING_IDX);
            layerNorm = new LayerNorm(s, p + "LayerNorm", c.hiddenSize(), c.layerNormEps());
            dropoutP = c.hiddenDropout();
        }

        /** ids, positionIds (B, T) or (N) -> (B, T, H) or (N, H). rows: see {@link EncoderInput}. */
        NDArray forward(NDArray inputIds, NDArray positionIds, StepGradients rows, boolean training) {
            NDArray x = wordEmbeddings.forward(inputIds, rows); // (..., H)
            x = x.add(positionEmbeddings.forward(positionIds, rows)); // (..., H)
            x = layerNorm.forward(x); // (..., H)
            return dropout(x, dropoutP, training);
        }
    }

    /**
     * The relative-position bias (MPNetEncoder.relative_attention_bias and compute_position_bias): one
     * learned scalar per head and bucket of key − query distance, the same for every layer.
     */
    static final class RelativeBias {
        /** compute_position_bias's max_distance: distances from here on share the last log bucket. */
        static final int MAX_DISTANCE = 128;

        final Embedding table; // (relative_attention_num_buckets, nh)

        RelativeBias(ParameterStore s, String p, MPNetConfig c) {
            table = new Embedding(s, p + "relative_attention_bias", c.relativeAttentionNumBuckets(), c.numHeads(),
                    c.initializerRange(), -1);
        }

        /**
         * The bias of a query i and key j for all pairs of positions 0..T-1, (nh, T, T). It depends only on
         * j - i, so its top-left (T', T') block is the bias of any shorter sequence: the packed layout's
         * groups slice it. The table's gradient comes from PyTorch's embedding backward (it is 32 × nh:
         * nothing to gain from row-wise gradients).
         */
        NDArray forward(NDManager m, int t) {
            long[] buckets = new long[t * t];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    buckets[i * t + j] = bucket(j - i);
                }
            }
            NDArray ids = m.create(buckets, new Shape(t, t)); // (T, T) int64
            return table.forward(ids, null).transpose(2, 0, 1); // (nh, T, T)
        }

        /**
         * relative_position_bucket for relative position j - i, with its hard-coded 32 buckets and max
         * distance 128: half the buckets for keys after the query, half before (or at) it; in each half
         * distances below 8 get a bucket each, longer ones share log-spaced buckets up to 15. The log runs
         * in float32 as torch computes it (MPNetParityTest checks the whole −511..511 table).
         */
        static int bucket(int relativePosition) {
            int half = MPNetConfig.POSITION_BUCKETS / 2; // 16
            int n = -relativePosition;
            int ret = n < 0 ? half : 0;
            n = Math.abs(n);
            int maxExact = half / 2; // 8
            if (n < maxExact) {
                return ret + n;
            }
            float log = (float) Math.log((float) n / maxExact) / (float) Math.log((double) MAX_DISTANCE / maxExact);
            int large = maxExact + (int) (log * (half - maxExact));
            return ret + Math.min(large, half - 1);
        }
    }

    /** Scaled dot-product attention plus the relative bias, then o (MPNetSelfAttention: q, k, v, o). */
    static final class SelfAttention {
        final Linear q; // H -> H
        final Linear k; // H -> H
        final Linear v; // H -> H
        final Linear o; // H -> H
        final int numHeads;
        final int headSize;
        final double dropoutP;

        SelfAttention(ParameterStore s, String p, MPNetConfig c) {
            q = new Linear(s, p + "q", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            k = new Linear(s, p + "k", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            v = new Linear(s, p + "v", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            o = new Linear(s, p + "o", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            numHeads = c.numHeads();
            headSize = c.headDim();
            dropoutP = c.attentionDropout();
        }

        /** x (B, T, H) or packed (N, H), bias (nh, T, T) -> o(context), the same shape as x. */
        NDArray forward(NDArray x, NDArray bias, TokenLayout layout, boolean training) {
            NDArray qx = q.forward(x, training); // (..., H)
            NDArray kx = k.forward(x, training); // (..., H)
            NDArray vx = v.forward(x, training); // (..., H)
            // scores = q k^T / sqrt(hs) + bias[:, i, j], then the padding mask (MPNetSelfAttention.forward).
            // A layout hands (b, nh, T', T') scores, T' <= T: the bias's top-left block is theirs.
            NDArray context = layout.attention(qx, kx, vx, numHeads, headSize, scores -> {
                long tq = scores.getShape().get(2);
                NDArray b = bias;
                if (tq != bias.getShape().get(1)) {
                    b = bias.get(":, :" + tq + ", :" + tq); // (nh, T', T')
                    b.attach(scores.getManager()); // the slice is filed under the bias's manager: free it with the layer
                }
                return scores.div(scalar(scores, Math.sqrt(headSize))).add(b); // (b, nh, T', T')
            }, dropoutP, training); // (..., H)
            return o.forward(context, training); // (..., H)
        }
    }

    /** One layer (MPNetLayer): attention block, then feed-forward block, each post-LN. */
    static final class Layer {
        final SelfAttention attn; // attention.attn.*
        final LayerNorm attentionLayerNorm; // attention.LayerNorm
        final Linear intermediate; // intermediate.dense, H -> I
        final Linear output; // output.dense, I -> H
        final LayerNorm outputLayerNorm; // output.LayerNorm
        final String act;
        final double dropoutP;

        Layer(ParameterStore s, String p, MPNetConfig c) {
            attn = new SelfAttention(s, p + "attention.attn.", c);
            attentionLayerNorm = new LayerNorm(s, p + "attention.LayerNorm", c.hiddenSize(), c.layerNormEps());
            intermediate = new Linear(s, p + "intermediate.dense", c.hiddenSize(), c.intermediateSize(), true, c.initializerRange());
            output = new Linear(s, p + "output.dense", c.intermediateSize(), c.hiddenSize(), true, c.initializerRange());
            outputLayerNorm = new LayerNorm(s, p + "output.LayerNorm", c.hiddenSize(), c.layerNormEps());
            act = c.hiddenAct();
            dropoutP = c.hiddenDropout();
        }

        /** x (B, T, H) or packed (N, H), bias (nh, T, T) -> the shape of x. */
        NDArray forward(NDArray x, NDArray bias, TokenLayout layout, boolean training) {
            // MPNetAttention: LayerNorm(dropout(o(attention)) + x)
            NDArray a = dropout(attn.forward(x, bias, layout, training), dropoutP, training); // (..., H)
            NDArray h = attentionLayerNorm.forward(a.add(x)); // (..., H)
            // MPNetIntermediate + MPNetOutput: LayerNorm(dropout(dense(act(dense(h)))) + h), as BERT's
            NDArray ffn = dropout(feedForward(intermediate, act, output, h, training), dropoutP, training); // (..., H)
            return outputLayerNorm.forward(ffn.add(h)); // (..., H)
        }

        void collectLinears(List<Linear> out) {
            out.add(attn.q);
            out.add(attn.k);
            out.add(attn.v);
            out.add(attn.o);
            out.add(intermediate);
            out.add(output);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private final MPNetConfig config;
    private final String prefix;
    private final Embeddings embeddings;
    private final List<Layer> layers = new ArrayList<>();
    private final RelativeBias relativeBias;

    /**
     * @param prefix "" for a bare MPNetModel, "mpnet." inside MPNetForSequenceClassification. MPNetModel's
     *     pooler is not built: sentence-transformers ignores it and the classifier has none.
     */
    public MPNet(ParameterStore store, String prefix, MPNetConfig config) {
        this.config = config;
        this.prefix = prefix;
        this.embeddings = new Embeddings(store, prefix + "embeddings.", config);
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(new Layer(store, prefix + "encoder.layer." + i + ".", config));
        }
        this.relativeBias = new RelativeBias(store, prefix + "encoder.", config);
    }

    @Override
    public EncoderOutput forward(EncoderInput in, TokenLayout layout, boolean training) {
        NDArray ids = layout.tokens(in.inputIds()); // (B, T) or (N)
        NDArray positions = layout.tokens(positionIds(in.inputIds())); // (B, T) or (N)
        NDArray x = embeddings.forward(ids, positions, in.stepGradients(), training); // (B, T, H) or (N, H)
        // Computed once from positions 0..T-1 and added in every layer (MPNetEncoder.forward). Packed,
        // each sequence starts at 0 in its group; the bias depends only on key - query, so the real tokens
        // see exactly the padded batch's bias.
        int t = Math.toIntExact(in.inputIds().getShape().get(1));
        NDArray bias = relativeBias.forward(ids.getManager(), t); // (nh, T, T)
        for (Layer layer : layers) {
            x = scoped(x, h -> layer.forward(h, bias, layout, training)); // (B, T, H) or (N, H)
        }
        return new EncoderOutput(layout.toBatch(x), null); // (B, T, H)
    }

    /** MPNet's position ids of a padded batch: real tokens 2, 3, ..., padding 1. ids (B, T) -> (B, T). */
    public static NDArray positionIds(NDArray inputIds) {
        return Roberta.positionIds(inputIds, MPNetConfig.PADDING_IDX); // (B, T)
    }

    /** The bucket of the relative-position bias for key position minus query position (see {@link RelativeBias#bucket}). */
    public static int relativePositionBucket(int keyMinusQuery) {
        return RelativeBias.bucket(keyMinusQuery);
    }

    @Override
    public MPNetConfig config() {
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
        return "mpnet.";
    }

    @Override
    public String prefix() {
        return prefix;
    }

    @Override
    public boolean isIgnorableKey(String key) {
        // MPNetModel's pooler (all-mpnet-base-v2 carries it; sentence-transformers ignores it), the
        // masked-LM head of MPNetForMaskedLM, and the position_ids buffer.
        return key.endsWith("embeddings.position_ids") || key.contains("pooler.dense.") || key.startsWith("lm_head.");
    }

    // ---- MPNetForSequenceClassification ------------------------------------------------------------
    //
    // MPNetClassificationHead is h[:, 0] -> dropout -> classifier.dense -> tanh -> dropout ->
    // classifier.out_proj, with dropout hidden_dropout_prob: RobertaClassificationHead's computation
    // under RobertaClassificationHead's keys. HeadConfig.standard gives MPNet that head (type "roberta",
    // {@link Roberta.ClassificationHead}) rather than a second copy of it; MPNetParityTest checks the
    // logits against transformers' MPNetForSequenceClassification.
}
