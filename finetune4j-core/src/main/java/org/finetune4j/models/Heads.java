package org.finetune4j.models;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * The classification heads of {@link HeadConfig}. Each is the head of an architecture's
 * XForSequenceClassification, at the end of that architecture's file, with transformers' parameter
 * names; a config may put any of them on any encoder. A head maps pooled features (B, F) to logits
 * (B, C), where F is the encoder's hidden size and C the label count.
 */
public final class Heads {
    private Heads() {
    }

    public interface Head {
        /** features (B, F) -> logits (B, C). */
        NDArray forward(NDArray features, boolean training);

        List<Linear> linears();

        /** The state-dict key prefixes of this head's parameters (what PEFT's modules_to_save names). */
        List<String> modulePrefixes();
    }

    public static Head create(ParameterStore s, HeadConfig h, int features, int numLabels, double initStd) {
        return switch (h.type()) {
            case "linear" -> new Bert.ClassificationHead(s, h, features, numLabels, initStd);
            case "mlp" -> new DistilBert.ClassificationHead(s, h, features, numLabels, initStd);
            // ELECTRA's head is RoBERTa's with GELU (HeadConfig.standard gives its activation): see Electra.java's end.
            case "roberta", "electra" -> new Roberta.ClassificationHead(s, h, features, numLabels, initStd);
            default -> throw new IllegalArgumentException("unknown head type \"" + h.type() + "\"; choose one of "
                    + HeadConfig.TYPES);
        };
    }
}
