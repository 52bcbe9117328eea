package org.finetune4j.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.nn.Functional;

/**
 * transformers' DebertaV2Config (model_type "deberta-v2": DeBERTa-v2 and every DeBERTa-v3 checkpoint).
 * Defaults are transformers 4.37's, including the attributes modeling_deberta_v2.py reads with
 * {@code getattr(config, name, default)} (position_buckets, norm_rel_ebd, share_att_key,
 * pooler_hidden_size, cls_dropout), so a sparse config.json reads as Python reads it.
 */
public record DebertaV2Config(
        int vocabSize,
        int hiddenSize,
        int numLayers, // num_hidden_layers
        int numHeads, // num_attention_heads
        int intermediateSize,
        String hiddenAct,
        double hiddenDropout, // hidden_dropout_prob
        double attentionDropout, // attention_probs_dropout_prob
        int maxPositionEmbeddings,
        int typeVocabSize, // 0 (DeBERTa-v3): no token-type embedding, token_type_ids are ignored
        double initializerRange,
        double layerNormEps,
        int padTokenId,
        boolean relativeAttention,
        int maxRelativePositionsField, // max_relative_positions as written; < 1 means max_position_embeddings
        int positionBuckets, // <= 0: no log buckets
        List<String> posAttType, // "c2p", "p2c" (lower-cased, from a list or a "|"-separated string)
        String normRelEbd, // "layer_norm" or "none" ("|"-separated in transformers)
        boolean shareAttKey,
        boolean positionBiasedInput,
        int poolerHiddenSize,
        double poolerDropout,
        String poolerHiddenAct,
        Double clsDropoutOrNull // cls_dropout; null means hidden_dropout_prob
) implements EncoderConfig {

    /** The relative-attention terms modeling_deberta_v2.py computes; "p2p" (DeBERTa v1) it ignores. */
    static final Set<String> POS_ATT_TYPES = Set.of("c2p", "p2c", "p2p");

    public DebertaV2Config {
        posAttType = List.copyOf(posAttType);
        if (hiddenSize % numHeads != 0) {
            throw new CheckpointException("config: hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numHeads + ". Fix config.json.");
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new CheckpointException("config: pad_token_id " + padTokenId + " is outside the vocabulary of "
                    + vocabSize + ". Fix config.json.");
        }
        if (typeVocabSize < 0) {
            throw new CheckpointException("config: type_vocab_size " + typeVocabSize + " is negative. Fix config.json.");
        }
        for (String t : posAttType) {
            if (!POS_ATT_TYPES.contains(t)) {
                throw new CheckpointException("config: pos_att_type entry \"" + t + "\" is unknown; DeBERTa-v2 knows c2p and p2c."
                        + " Fix config.json.");
            }
        }
        if (!normRelEbd.equals("none") && !normRelEbd.equals("layer_norm")) {
            throw new CheckpointException("config: norm_rel_ebd \"" + normRelEbd + "\" is not supported; use layer_norm or none.");
        }
        if (poolerHiddenSize != hiddenSize) {
            // ContextPooler.output_dim is hidden_size: the classifier reads hidden_size features, so
            // transformers itself cannot run another pooler width.
            throw new CheckpointException("config: pooler_hidden_size " + poolerHiddenSize + " differs from hidden_size "
                    + hiddenSize + "; DebertaV2ForSequenceClassification needs them equal. Fix config.json.");
        }
    }

    /** A tiny DeBERTa-v3 layout for tests (hidden 32, 2 layers, 4 heads, 8 log buckets, shared key). */
    public static DebertaV2Config tiny(int vocabSize) {
        return new DebertaV2Config(vocabSize, 32, 2, 4, 37, "gelu", 0.1, 0.1, 64, 0, 0.02, 1e-7, 0, true, -1, 8,
                List.of("p2c", "c2p"), "layer_norm", true, false, 32, 0, "gelu", null);
    }

    static DebertaV2Config read(ObjectNode node, String where) {
        JsonFields f = new JsonFields(node, where);
        if (f.intValue("conv_kernel_size", 0) > 0) {
            throw new CheckpointException(where + ": conv_kernel_size > 0 (the ConvLayer of deberta-v2-xlarge/xxlarge)"
                    + " is not supported; use a DeBERTa-v3 checkpoint.");
        }
        int hidden = f.positiveInt("hidden_size", 1536);
        int heads = f.positiveInt("num_attention_heads", 24);
        if (f.has("embedding_size") && f.positiveInt("embedding_size", hidden) != hidden) {
            throw new CheckpointException(where + ": embedding_size " + f.positiveInt("embedding_size", hidden)
                    + " differs from hidden_size " + hidden + " (embed_proj); this is not supported.");
        }
        if (f.has("attention_head_size") && f.positiveInt("attention_head_size", hidden / heads) != hidden / heads) {
            throw new CheckpointException(where + ": attention_head_size " + f.positiveInt("attention_head_size", 0)
                    + " differs from hidden_size / num_attention_heads = " + hidden / heads + "; this is not supported.");
        }
        String norm = f.string("norm_rel_ebd", "none").toLowerCase(Locale.ROOT);
        List<String> norms = List.of(norm.split("\\|")).stream().map(String::strip).toList();
        return new DebertaV2Config(
                f.positiveInt("vocab_size", 128100),
                hidden,
                f.positiveInt("num_hidden_layers", 24),
                heads,
                f.positiveInt("intermediate_size", 6144),
                f.oneOf("hidden_act", "gelu", Functional.ACTIVATIONS),
                f.probability("hidden_dropout_prob", 0.1),
                f.probability("attention_probs_dropout_prob", 0.1),
                f.positiveInt("max_position_embeddings", 512),
                f.intValue("type_vocab_size", 0),
                f.positiveDouble("initializer_range", 0.02),
                f.positiveDouble("layer_norm_eps", 1e-7),
                f.intValue("pad_token_id", 0),
                f.bool("relative_attention", false),
                f.intValue("max_relative_positions", -1),
                f.intValue("position_buckets", -1),
                posAttType(node.get("pos_att_type"), where),
                norms.contains("layer_norm") ? "layer_norm" : "none",
                f.bool("share_att_key", false),
                f.bool("position_biased_input", true),
                f.positiveInt("pooler_hidden_size", hidden),
                f.probability("pooler_dropout", 0),
                f.oneOf("pooler_hidden_act", "gelu", Functional.ACTIVATIONS),
                f.optionalProbability("cls_dropout"));
    }

    /** DebertaV2Config.__init__: a "|"-separated string is lower-cased and split; a list is kept; null is none. */
    private static List<String> posAttType(JsonNode v, String where) {
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (v.isTextual()) {
            for (String s : v.asText().toLowerCase(Locale.ROOT).split("\\|")) {
                if (!s.isBlank()) {
                    out.add(s.strip());
                }
            }
        } else if (v.isArray()) {
            v.forEach(x -> out.add(x.asText()));
        } else {
            throw new CheckpointException(where + ": field \"pos_att_type\" must be a list such as [\"p2c\", \"c2p\"] or a"
                    + " string such as \"p2c|c2p\", found " + v + ". Fix config.json.");
        }
        return out;
    }

    @Override
    public String modelType() {
        return "deberta-v2";
    }

    /** max_relative_positions, or max_position_embeddings when it is below 1 (DisentangledSelfAttention). */
    public int maxRelativePositions() {
        return maxRelativePositionsField < 1 ? maxPositionEmbeddings : maxRelativePositionsField;
    }

    /** The attention span S: position_buckets when bucketed, else max_relative_positions; rel_embeddings has 2S rows. */
    public int attentionSpan() {
        return positionBuckets > 0 ? positionBuckets : maxRelativePositions();
    }

    public boolean c2p() {
        return posAttType.contains("c2p");
    }

    public boolean p2c() {
        return posAttType.contains("p2c");
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    @Override
    public double classifierDropout() {
        return clsDropoutOrNull != null ? clsDropoutOrNull : hiddenDropout;
    }

    @Override
    public boolean usesTokenTypes() {
        return typeVocabSize > 0;
    }

    @Override
    public void writeTo(ObjectNode n) {
        n.put("model_type", modelType());
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("num_hidden_layers", numLayers);
        n.put("num_attention_heads", numHeads);
        n.put("intermediate_size", intermediateSize);
        n.put("hidden_act", hiddenAct);
        n.put("hidden_dropout_prob", hiddenDropout);
        n.put("attention_probs_dropout_prob", attentionDropout);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("type_vocab_size", typeVocabSize);
        n.put("initializer_range", initializerRange);
        n.put("layer_norm_eps", layerNormEps);
        n.put("pad_token_id", padTokenId);
        n.put("relative_attention", relativeAttention);
        n.put("max_relative_positions", maxRelativePositionsField);
        n.put("position_buckets", positionBuckets);
        ArrayNode types = n.putArray("pos_att_type");
        posAttType.forEach(types::add);
        n.put("norm_rel_ebd", normRelEbd);
        n.put("share_att_key", shareAttKey);
        n.put("position_biased_input", positionBiasedInput);
        n.put("pooler_hidden_size", poolerHiddenSize);
        n.put("pooler_dropout", poolerDropout);
        n.put("pooler_hidden_act", poolerHiddenAct);
        if (clsDropoutOrNull == null) {
            n.remove("cls_dropout");
        } else {
            n.put("cls_dropout", clsDropoutOrNull);
        }
    }
}
