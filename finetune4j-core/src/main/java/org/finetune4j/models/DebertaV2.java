package org.finetune4j.models;

import static org.finetune4j.nn.Functional.activation;
import static org.finetune4j.nn.Functional.dropout;
import static org.finetune4j.nn.Functional.feedForward;
import static org.finetune4j.nn.Functional.scalar;
import static org.finetune4j.nn.Functional.scoped;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.DebertaV2Config;
import org.finetune4j.nn.Embedding;
import org.finetune4j.nn.StepGradients;
import org.finetune4j.nn.LayerNorm;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * DeBERTa-v2 and DeBERTa-v3 (He et al. 2021, "DeBERTa: Decoding-enhanced BERT with Disentangled
 * Attention"; He et al. 2023, "DeBERTaV3") as transformers 4.37's modeling_deberta_v2.py builds them.
 * What differs from BERT is the attention: each score adds to the content term q_i · k_j a
 * content-to-position term q_i · pk[δ(i, j)] and a position-to-content term k_j · pq[δ(i, j)], where
 * δ(i, j) indexes shared relative-position embeddings by the (log-bucketed) distance i − j. Parameter
 * names are DebertaV2ForSequenceClassification's state-dict keys. Shapes: B batch, T tokens, H hidden,
 * nh heads, hs head size (H / nh), I intermediate, S attention span (2S relative embeddings).
 *
 * <p>Not covered: the ConvLayer of deberta-v2-xlarge/xxlarge ({@code conv_kernel_size}) and
 * {@code embedding_size} ≠ hidden size ({@code embed_proj}); {@link DebertaV2Config} refuses both.
 *
 * <p><b>Padded batches only.</b> Unlike BERT, DeBERTa does not run on {@link PackedTokens} at inference:
 * its attention needs the (T, T) relative-position index and the two position terms inside the score
 * matrix, which {@link TokenLayout#attention} (a scale on q k^T) cannot carry; and XSoftmax gives padded
 * query rows all-zero attention, which the packed layout has no rows for. It is one path, the padded
 * batch with its 2-D mask, for training and inference alike (DebertaParityTest checks it, padded
 * positions included, against transformers).
 */
public final class DebertaV2 implements Encoder {

    /**
     * Word embeddings, plus absolute positions only when {@code position_biased_input} and token types
     * only when {@code type_vocab_size} > 0 (DeBERTa-v3 has neither); LayerNorm; then padded positions
     * zeroed by the mask; dropout (DebertaV2Embeddings).
     */
    static final class Embeddings {
        final Embedding wordEmbeddings; // (vocab, H)
        final Embedding positionEmbeddings; // (max_pos, H) or null
        final Embedding tokenTypeEmbeddings; // (type_vocab, H) or null
        final LayerNorm layerNorm;
        final double dropoutP;

        Embeddings(ParameterStore s, String p, DebertaV2Config c) {
            wordEmbeddings = new Embedding(s, p + "word_embeddings", c.vocabSize(), c.hiddenSize(), c.initializerRange(), c.padTokenId());
            positionEmbeddings = c.positionBiasedInput()
                    ? new Embedding(s, p + "position_embeddings", c.maxPositionEmbeddings(), c.hiddenSize(), c.initializerRange(), -1)
                    : null;
            tokenTypeEmbeddings = c.typeVocabSize() > 0
                    ? new Embedding(s, p + "token_type_embeddings", c.typeVocabSize(), c.hiddenSize(), c.initializerRange(), -1)
                    : null;
            layerNorm = new LayerNorm(s, p + "LayerNorm", c.hiddenSize(), c.layerNormEps());
            dropoutP = c.hiddenDropout();
        }

        /** ids (B, T), positions (T), types (B, T) or null, mask (B, T) float -> (B, T, H). */
        NDArray forward(NDArray ids, NDArray positions, NDArray types, NDArray mask, StepGradients rows, boolean training) {
            NDArray x = wordEmbeddings.forward(ids, rows); // (B, T, H)
            if (positionEmbeddings != null) {
                x = x.add(positionEmbeddings.forward(positions, rows)); // (B, T, H), positions broadcast over B
            }
            if (tokenTypeEmbeddings != null) {
                NDArray t = types != null ? types : ids.getManager().zeros(ids.getShape(), DataType.INT64); // (B, T)
                x = x.add(tokenTypeEmbeddings.forward(t, rows)); // (B, T, H)
            }
            x = layerNorm.forward(x).mul(mask.expandDims(2)); // (B, T, H), padded positions 0
            return dropout(x, dropoutP, training);
        }
    }

    /**
     * The relative positions of a T-token row: δ(i, j) = clamp(bucket(i − j) + S, 0, 2S − 1), the row of
     * the relative embeddings that query i and key j share (build_relative_position + the clamp of
     * disentangled_attention_bias).
     */
    static final class RelativePositions {
        private RelativePositions() {
        }

        /**
         * make_log_bucket_position for one relative position r: exact within ±mid (mid = bucketSize / 2),
         * beyond it sign(r) · (ceil(ln(|r| / mid) / ln((M − 1) / mid) · (mid − 1)) + mid). In float32 as
         * torch computes it, both logarithms from the same function: at |r| = M − 1 the ratio is exactly 1,
         * and mixing precisions there gives ±2·mid instead of ±(2·mid − 1) (golden README, deberta-v2-seqcls;
         * DebertaParityTest checks the tables of (8, 64) and deberta-v3-base's (256, 512)).
         */
        static int logBucket(int r, int bucketSize, int maxPosition) {
            int mid = bucketSize / 2;
            int abs = r < mid && r > -mid ? mid - 1 : Math.abs(r);
            if (abs <= mid) {
                return r;
            }
            float scaled = (float) abs / (float) mid;
            float limit = (float) ((double) (maxPosition - 1) / mid); // torch.tensor((max_position - 1) / mid)
            float ratio = (float) Math.log(scaled) / (float) Math.log(limit);
            float logPos = (float) Math.ceil(ratio * (float) (mid - 1)) + mid;
            return (int) (logPos * Integer.signum(r));
        }

        /** bucket(i − j) for query i and key j of a T-token row, (T * T) row-major; unbucketed when bucketSize <= 0. */
        static long[] buckets(int t, int bucketSize, int maxPosition) {
            long[] out = new long[t * t];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    int r = i - j;
                    out[i * t + j] = bucketSize > 0 && maxPosition > 0 ? logBucket(r, bucketSize, maxPosition) : r;
                }
            }
            return out;
        }

        /** δ(i, j) (T, T) int64, and its transpose (δ^T[j, i] = δ(i, j)) when {@code transposed}. */
        static NDArray index(NDManager m, int t, DebertaV2Config c, boolean transposed) {
            long[] b = buckets(t, c.positionBuckets(), c.maxRelativePositions());
            int span = c.attentionSpan();
            long[] out = new long[t * t];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    long d = Math.max(0, Math.min(2L * span - 1, b[i * t + j] + span));
                    out[transposed ? j * t + i : i * t + j] = d;
                }
            }
            return m.create(out, new Shape(t, t)); // (T, T)
        }
    }

    /**
     * bucket(i − j) for query i and key j of a T-token row, (T * T) row-major, as build_relative_position
     * gives it ({@code bucketSize} <= 0: the plain distances).
     */
    public static long[] relativePositionBuckets(int t, int bucketSize, int maxPosition) {
        return RelativePositions.buckets(t, bucketSize, maxPosition);
    }

    /** make_log_bucket_position for one relative position (see {@link RelativePositions#logBucket}). */
    public static int logBucket(int relativePosition, int bucketSize, int maxPosition) {
        return RelativePositions.logBucket(relativePosition, bucketSize, maxPosition);
    }

    /** What every layer's attention shares in one forward pass. */
    record RelativeContext(NDArray mask, NDArray bias, NDArray delta, NDArray deltaT, NDArray rel) {
        // mask (B, 1, T, T) float: mask_i · mask_j; bias (B, 1, T, T): 0 where mask is 1, else the most
        // negative float; delta, deltaT (T, T) int64; rel (1, 2S, H) or null
    }

    /**
     * DisentangledSelfAttention: content, c2p and p2c scores, each divided by sqrt(hs · (1 + the number of
     * position terms)), softmax with XSoftmax's masking. With {@code share_att_key} the layer's own
     * {@code query_proj} / {@code key_proj} (biases and any LoRA branch included) project the relative
     * embeddings; otherwise {@code pos_query_proj} (p2c) and {@code pos_key_proj} (c2p) do.
     */
    static final class SelfAttention {
        final Linear queryProj; // H -> H
        final Linear keyProj; // H -> H
        final Linear valueProj; // H -> H
        final Linear posKeyProj; // H -> H, or null (share_att_key, or no c2p)
        final Linear posQueryProj; // H -> H, or null (share_att_key, or no p2c)
        final boolean relative;
        final boolean c2p;
        final boolean p2c;
        final int numHeads;
        final int headSize;
        final float scale; // sqrt(hs * scale_factor), in float32 as torch.sqrt of a float tensor
        final double dropoutP;
        final double posDropoutP;

        SelfAttention(ParameterStore s, String p, DebertaV2Config c) {
            queryProj = new Linear(s, p + "query_proj", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            keyProj = new Linear(s, p + "key_proj", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            valueProj = new Linear(s, p + "value_proj", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange());
            relative = c.relativeAttention();
            c2p = c.c2p();
            p2c = c.p2c();
            boolean own = relative && !c.shareAttKey();
            posKeyProj = own && c2p ? new Linear(s, p + "pos_key_proj", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange()) : null;
            posQueryProj = own && p2c ? new Linear(s, p + "pos_query_proj", c.hiddenSize(), c.hiddenSize(), true, c.initializerRange()) : null;
            numHeads = c.numHeads();
            headSize = c.headDim();
            int scaleFactor = 1 + (c2p ? 1 : 0) + (p2c ? 1 : 0); // counted from pos_att_type even without relative_attention
            scale = (float) Math.sqrt((float) headSize * scaleFactor);
            dropoutP = c.attentionDropout();
            posDropoutP = c.hiddenDropout();
        }

        /** x (B, T, H) -> context (B, T, H). */
        NDArray forward(NDArray x, RelativeContext ctx, boolean training) {
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            NDArray qh = heads(queryProj.forward(x, training), b, t); // (B, nh, T, hs)
            NDArray kh = heads(keyProj.forward(x, training), b, t); // (B, nh, T, hs)
            NDArray vh = heads(valueProj.forward(x, training), b, t); // (B, nh, T, hs)
            NDArray probs = dropout(probabilities(qh, kh, ctx, training), dropoutP, training); // (B, nh, T, T)
            NDArray context = probs.matMul(vh); // (B, nh, T, hs)
            return context.transpose(0, 2, 1, 3).reshape(b, t, (long) numHeads * headSize); // (B, T, H)
        }

        /** The attention probabilities of x (B, T, H) at inference (what output_attentions returns): (B, nh, T, T). */
        NDArray probabilities(NDArray x, RelativeContext ctx) {
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            return probabilities(heads(queryProj.forward(x, false), b, t), heads(keyProj.forward(x, false), b, t), ctx, false);
        }

        /** qh, kh (B, nh, T, hs) -> softmax probabilities (B, nh, T, T), before dropout. */
        private NDArray probabilities(NDArray qh, NDArray kh, RelativeContext ctx, boolean training) {
            NDArray s = scalar(qh, scale); // ()
            // Content: HF divides the key layer, not the product, by the scale.
            NDArray scores = qh.matMul(kh.div(s).transpose(0, 1, 3, 2)); // (B, nh, T, T)
            if (relative) {
                scores = scores.add(positionScores(qh, kh, ctx, s, training)); // (B, nh, T, T)
            }
            // XSoftmax: masked scores give no weight, and a padded query row (all masked) attends to
            // nothing: its probabilities are set to 0 after the softmax (masked_fill_(rmask, 0)).
            return scores.add(ctx.bias()).softmax(-1).mul(ctx.mask()); // (B, nh, T, T)
        }

        /**
         * disentangled_attention_bias: c2p(i, j) = q_i · pk[δ(i, j)] / s and p2c(i, j) = k_j · pq[δ(i, j)] / s,
         * each as a product with all 2S relative rows, then a gather at δ (p2c at δ^T, then transposed, as
         * HF gathers at clamp(−bucket(j − i) + S), which is δ(i, j) because the bucket function is odd).
         */
        private NDArray positionScores(NDArray qh, NDArray kh, RelativeContext ctx, NDArray s, boolean training) {
            long b = qh.getShape().get(0);
            long t = qh.getShape().get(2);
            NDArray rel = dropout(ctx.rel(), posDropoutP, training); // (1, 2S, H)
            Shape full = new Shape(b, numHeads, t, t);
            NDArray out = null;
            if (c2p) {
                NDArray pk = heads((posKeyProj != null ? posKeyProj : keyProj).forward(rel, training), 1, rel.getShape().get(1)); // (1, nh, 2S, hs)
                NDArray all = qh.matMul(pk.transpose(0, 1, 3, 2)); // (B, nh, T, 2S)
                NDArray c2pScores = all.gather(ctx.delta().reshape(1, 1, t, t).broadcast(full), 3); // (B, nh, T, T)
                out = c2pScores.div(s); // (B, nh, T, T)
            }
            if (p2c) {
                NDArray pq = heads((posQueryProj != null ? posQueryProj : queryProj).forward(rel, training), 1, rel.getShape().get(1)); // (1, nh, 2S, hs)
                NDArray all = kh.matMul(pq.transpose(0, 1, 3, 2)); // (B, nh, T keys, 2S)
                NDArray byKey = all.gather(ctx.deltaT().reshape(1, 1, t, t).broadcast(full), 3); // (B, nh, T keys, T queries)
                NDArray p2cScores = byKey.transpose(0, 1, 3, 2).div(s); // (B, nh, T, T)
                out = out == null ? p2cScores : out.add(p2cScores); // (B, nh, T, T)
            }
            return out != null ? out : qh.getManager().zeros(full); // (B, nh, T, T)
        }

        /** (b, n, H) -> (b, nh, n, hs). */
        private NDArray heads(NDArray x, long b, long n) {
            return x.reshape(b, n, numHeads, headSize).transpose(0, 2, 1, 3); // (b, nh, n, hs)
        }

        void collectLinears(List<Linear> out) {
            out.add(queryProj);
            out.add(keyProj);
            out.add(valueProj);
            if (posKeyProj != null) {
                out.add(posKeyProj);
            }
            if (posQueryProj != null) {
                out.add(posQueryProj);
            }
        }
    }

    /**
     * Dense -> dropout -> residual -> LayerNorm: DebertaV2SelfOutput and DebertaV2Output (copied from
     * {@link Bert}'s ResidualOutput, which is typed to BertConfig).
     */
    static final class ResidualOutput {
        final Linear dense; // in -> H
        final LayerNorm layerNorm;
        final double dropoutP;

        ResidualOutput(ParameterStore s, String p, long in, DebertaV2Config c) {
            dense = new Linear(s, p + "dense", in, c.hiddenSize(), true, c.initializerRange());
            layerNorm = new LayerNorm(s, p + "LayerNorm", c.hiddenSize(), c.layerNormEps());
            dropoutP = c.hiddenDropout();
        }

        /** dense output y (B, T, H), residual (B, T, H) -> (B, T, H). */
        NDArray finish(NDArray y, NDArray residual, boolean training) {
            return layerNorm.forward(dropout(y, dropoutP, training).add(residual)); // (B, T, H)
        }
    }

    /** DebertaV2Layer: disentangled attention block, then the feed-forward block, each post-LN as in BERT. */
    static final class Layer {
        final SelfAttention attention; // attention.self.*
        final ResidualOutput attentionOutput; // attention.output.*
        final Linear intermediate; // intermediate.dense, H -> I
        final ResidualOutput output; // output.*, I -> H
        final String act;

        Layer(ParameterStore s, String p, DebertaV2Config c) {
            attention = new SelfAttention(s, p + "attention.self.", c);
            attentionOutput = new ResidualOutput(s, p + "attention.output.", c.hiddenSize(), c);
            intermediate = new Linear(s, p + "intermediate.dense", c.hiddenSize(), c.intermediateSize(), true, c.initializerRange());
            output = new ResidualOutput(s, p + "output.", c.intermediateSize(), c);
            act = c.hiddenAct();
        }

        /** x (B, T, H) -> (B, T, H). */
        NDArray forward(NDArray x, RelativeContext ctx, boolean training) {
            NDArray context = attention.forward(x, ctx, training); // (B, T, H)
            NDArray h = attentionOutput.finish(attentionOutput.dense.forward(context, training), x, training); // (B, T, H)
            NDArray ffn = feedForward(intermediate, act, output.dense, h, training); // (B, T, H), through (B, T, I)
            return output.finish(ffn, h, training); // (B, T, H)
        }

        void collectLinears(List<Linear> out) {
            attention.collectLinears(out);
            out.add(attentionOutput.dense);
            out.add(intermediate);
            out.add(output.dense);
        }
    }

    /**
     * ContextPooler: first token -> dropout(pooler_dropout) -> dense (pooler_hidden_size) ->
     * pooler_hidden_act ("gelu" is the erf GELU, not BERT's tanh). Its keys are top-level
     * ({@code pooler.dense.*}): it is a module of DebertaV2ForSequenceClassification, not of
     * DebertaV2Model.
     */
    static final class ContextPooler {
        final Linear dense; // H -> pooler_hidden_size (= H)
        final String act;
        final double dropoutP;

        ContextPooler(ParameterStore s, DebertaV2Config c) {
            dense = new Linear(s, POOLER + "dense", c.hiddenSize(), c.poolerHiddenSize(), true, c.initializerRange());
            act = c.poolerHiddenAct();
            dropoutP = c.poolerDropout();
        }

        /** first-token states (B, H) -> (B, H). */
        NDArray forward(NDArray firstToken, boolean training) {
            return activation(act, dense.forward(dropout(firstToken, dropoutP, training), training)); // (B, H)
        }
    }

    /** The ContextPooler's key prefix, outside the encoder's "deberta.". */
    static final String POOLER = "pooler.";

    // ---------------------------------------------------------------------------------------------

    private final DebertaV2Config config;
    private final String prefix;
    private final Embeddings embeddings;
    private final List<Layer> layers = new ArrayList<>();
    private final Embedding relEmbeddings; // encoder.rel_embeddings (2S, H), or null without relative_attention
    private final LayerNorm relLayerNorm; // encoder.LayerNorm on the relative embeddings (norm_rel_ebd), or null
    private final ContextPooler pooler; // null unless the classifier pools with it

    /**
     * @param prefix "" for a bare DebertaV2Model, "deberta." inside DebertaV2ForSequenceClassification
     * @param withPooler whether the classifier's ContextPooler is built (its keys are "pooler.dense.*")
     */
    public DebertaV2(ParameterStore store, String prefix, DebertaV2Config config, boolean withPooler) {
        this.config = config;
        this.prefix = prefix;
        this.embeddings = new Embeddings(store, prefix + "embeddings.", config);
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(new Layer(store, prefix + "encoder.layer." + i + ".", config));
        }
        this.relEmbeddings = config.relativeAttention() ? new Embedding(store, prefix + "encoder.rel_embeddings",
                2L * config.attentionSpan(), config.hiddenSize(), config.initializerRange(), -1) : null;
        this.relLayerNorm = config.relativeAttention() && config.normRelEbd().equals("layer_norm")
                ? new LayerNorm(store, prefix + "encoder.LayerNorm", config.hiddenSize(), config.layerNormEps()) : null;
        this.pooler = withPooler ? new ContextPooler(store, config) : null;
    }

    /** Always the padded batch: see the class comment for why DeBERTa has no packed path. */
    @Override
    public EncoderOutput forward(EncoderInput in, boolean training) {
        return forward(in, TokenLayout.padded(in.attentionMask()), training);
    }

    @Override
    public EncoderOutput forward(EncoderInput in, TokenLayout layout, boolean training) {
        if (!(layout instanceof TokenLayout.Padded)) {
            throw new IllegalArgumentException("DeBERTa-v2 runs on the padded batch only (its relative-position scores"
                    + " need the (T, T) layout); pass TokenLayout.padded(mask), got " + layout.getClass().getSimpleName());
        }
        NDArray x = embed(in, training); // (B, T, H)
        RelativeContext ctx = relativeContext(in);
        for (Layer layer : layers) {
            x = scoped(x, h -> layer.forward(h, ctx, training)); // (B, T, H)
        }
        return new EncoderOutput(x, pooler == null ? null : pooler.forward(x.get(":, 0, :"), training)); // (B, T, H), (B, H)
    }

    /** The embeddings' output, padded positions zeroed (hidden_states[0]): (B, T, H). */
    NDArray embed(EncoderInput in, boolean training) {
        NDArray ids = in.inputIds(); // (B, T)
        NDArray mask = in.attentionMask().toType(DataType.FLOAT32, false); // (B, T)
        NDArray positions = ids.getManager().arange(0, (int) ids.getShape().get(1), 1, DataType.INT64); // (T)
        return embeddings.forward(ids, positions, in.tokenTypeIds(), mask, in.stepGradients(), training); // (B, T, H)
    }

    /** What every layer's attention shares for this batch: the 2-D mask, δ, and the relative embeddings. */
    RelativeContext relativeContext(EncoderInput in) {
        NDManager m = in.inputIds().getManager();
        int t = (int) in.inputIds().getShape().get(1);
        NDArray mask = in.attentionMask().toType(DataType.FLOAT32, false); // (B, T)
        long b = mask.getShape().get(0);
        // DebertaV2Encoder.get_attention_mask: query i and key j both real.
        NDArray mask2d = mask.reshape(b, 1, t, 1).mul(mask.reshape(b, 1, 1, t)); // (B, 1, T, T)
        NDArray rel = null;
        if (relEmbeddings != null) {
            // get_rel_embedding: the whole table (looked up through an index so the result, and its
            // gradient, live in this batch's memory), LayerNorm'd once for all layers.
            NDArray rows = m.arange(0, 2 * config.attentionSpan(), 1, DataType.INT64); // (2S)
            rel = relEmbeddings.forward(rows, in.stepGradients()); // (2S, H)
            if (relLayerNorm != null) {
                rel = relLayerNorm.forward(rel); // (2S, H)
            }
            rel = rel.expandDims(0); // (1, 2S, H)
        }
        NDArray bias = mask2d.neg().add(1f).mul(-Float.MAX_VALUE); // (B, 1, T, T); no gradient flows into the mask
        return new RelativeContext(mask2d, bias, RelativePositions.index(m, t, config, false),
                RelativePositions.index(m, t, config, true), rel);
    }

    /** The layers, lowest first. */
    List<Layer> layers() {
        return layers;
    }

    @Override
    public DebertaV2Config config() {
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
        return "deberta.";
    }

    @Override
    public String prefix() {
        return prefix;
    }

    @Override
    public String poolerPrefix() {
        return POOLER;
    }

    /**
     * The token embeddings. The relative-position embeddings ({@code encoder.rel_embeddings}, and
     * {@code encoder.LayerNorm}) are not under it: every layer reads them, so partial freezing, which
     * freezes this prefix and the lowest layers, leaves them training with the upper layers.
     */
    @Override
    public boolean isIgnorableKey(String key) {
        // The position_ids buffer, the pre-training heads of DebertaV2ForMaskedLM (lm_predictions) and of
        // the ELECTRA-style replaced-token detector of DeBERTa-v3 (mask_predictions), and a pooler the
        // model does not use.
        boolean unusedPooler = pooler == null && key.startsWith(POOLER);
        return key.endsWith("embeddings.position_ids") || key.startsWith("lm_predictions.")
                || key.startsWith("mask_predictions.") || unusedPooler;
    }

    // ---- DebertaV2ForSequenceClassification --------------------------------------------------------
    //
    // ContextPooler -> dropout(cls_dropout, else hidden_dropout_prob) -> classifier (H -> C). The
    // pooler is this encoder's (above, HeadConfig pooling "pooler"), so the head is exactly BERT's
    // "linear" head, Bert.ClassificationHead: dropout -> classifier, keys classifier.weight (C, H) and
    // classifier.bias (C). DeBERTa's loss with problem_type unset drops rows whose label is < 0 before
    // the cross-entropy; our training data has no such labels.
}
