package org.finetune4j.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import org.finetune4j.nn.Functional;

/**
 * The classification head. Three shapes cover the architectures' own heads and the notebooks' custom
 * one; their parameter names are those of transformers:
 * <ul>
 *   <li>{@code linear}: dropout → {@code classifier} (BertForSequenceClassification);
 *   <li>{@code mlp}: {@code pre_classifier} (hidden → hiddenSize) → activation → dropout →
 *       {@code classifier} (DistilBertForSequenceClassification with hiddenSize = dim and ReLU, or the
 *       notebook's 768 → 512 → ReLU → dropout → classes);
 *   <li>{@code roberta}: dropout → {@code classifier.dense} → tanh → dropout → {@code classifier.out_proj}
 *       (RobertaClassificationHead, also XLM-RoBERTa's);
 *   <li>{@code electra}: the same layers with GELU instead of tanh (ElectraClassificationHead).
 * </ul>
 *
 * @param hiddenSize the MLP's inner width (ignored by {@code linear})
 */
public record HeadConfig(String type, Pooling pooling, int hiddenSize, String activation, double dropout) {
    public static final Set<String> TYPES = Set.of("linear", "mlp", "roberta", "electra");

    public HeadConfig {
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("unknown head type \"" + type + "\"; choose one of "
                    + new java.util.TreeSet<>(TYPES));
        }
        if (!Functional.ACTIVATIONS.contains(activation)) {
            throw new IllegalArgumentException("unknown head activation \"" + activation + "\"; choose one of "
                    + new java.util.TreeSet<>(Functional.ACTIVATIONS));
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("head dropout must be in [0, 1), got " + dropout);
        }
        if (type.equals("mlp") && hiddenSize <= 0) {
            throw new IllegalArgumentException("an mlp head needs a positive hidden size, got " + hiddenSize);
        }
    }

    /** The head the architecture's own XForSequenceClassification has, so checkpoints interoperate. */
    public static HeadConfig standard(EncoderConfig enc) {
        return switch (enc.modelType()) {
            case "bert" -> new HeadConfig("linear", Pooling.POOLER, 0, "tanh", enc.classifierDropout());
            case "distilbert" -> new HeadConfig("mlp", Pooling.CLS, enc.hiddenSize(), "relu", enc.classifierDropout());
            case "roberta", "xlm-roberta" -> new HeadConfig("roberta", Pooling.CLS, enc.hiddenSize(), "tanh", enc.classifierDropout());
            case "electra" -> new HeadConfig("electra", Pooling.CLS, enc.hiddenSize(), "gelu", enc.classifierDropout());
            // DebertaV2ForSequenceClassification: ContextPooler (the encoder's pooler here) -> dropout -> classifier.
            case "deberta-v2" -> new HeadConfig("linear", Pooling.POOLER, 0, ((DebertaV2Config) enc).poolerHiddenAct(),
                    enc.classifierDropout());
            // MPNetClassificationHead computes what RobertaClassificationHead does, under the same keys.
            case "mpnet" -> new HeadConfig("roberta", Pooling.CLS, enc.hiddenSize(), "tanh", enc.classifierDropout());
            // AlbertForSequenceClassification: the pooler (albert.pooler, tanh), dropout, classifier.
            case "albert" -> new HeadConfig("linear", Pooling.POOLER, 0, "tanh", enc.classifierDropout());
            default -> throw new IllegalArgumentException(enc.modelType());
        };
    }

    /** The notebook's custom head: hidden → size → ReLU → dropout → classes, on a chosen pooling. */
    public static HeadConfig mlp(Pooling pooling, int size, double dropout) {
        return new HeadConfig("mlp", pooling, size, "relu", dropout);
    }

    void writeTo(ObjectNode n) {
        n.put("type", type);
        n.put("pooling", pooling.id());
        if (!type.equals("linear")) {
            n.put("hidden_size", hiddenSize);
            n.put("activation", activation);
        }
        n.put("dropout", dropout);
    }

    static HeadConfig read(ObjectNode n, String where, EncoderConfig enc) {
        JsonFields f = new JsonFields(n, where + " (finetune4j.head)");
        HeadConfig std = standard(enc);
        String type = f.oneOf("type", std.type(), TYPES);
        try {
            return new HeadConfig(type, Pooling.parse(f.oneOf("pooling", std.pooling().id(), Set.of("pooler", "cls", "mean"))),
                    f.intValue("hidden_size", std.hiddenSize()), f.oneOf("activation", std.activation(), Functional.ACTIVATIONS),
                    f.probability("dropout", std.dropout()));
        } catch (IllegalArgumentException e) {
            throw new org.finetune4j.io.CheckpointException(where + ": finetune4j.head: " + e.getMessage());
        }
    }
}
