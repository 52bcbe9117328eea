package org.finetune4j.models;

import static org.finetune4j.nn.Functional.activation;
import static org.finetune4j.nn.Functional.dropout;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.ParameterStore;

/**
 * The classification heads of {@link HeadConfig}, with transformers' parameter names. A head maps
 * pooled features (B, F) to logits (B, C), where F is the encoder's hidden size and C the label count.
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
            case "linear" -> new LinearHead(s, h, features, numLabels, initStd);
            case "mlp" -> new MlpHead(s, h, features, numLabels, initStd);
            case "roberta" -> new RobertaHead(s, h, features, numLabels, initStd);
            default -> throw new IllegalArgumentException(h.type());
        };
    }

    /** dropout -> classifier (BertForSequenceClassification). */
    static final class LinearHead implements Head {
        final Linear classifier; // F -> C
        final double dropoutP;

        LinearHead(ParameterStore s, HeadConfig h, int f, int c, double std) {
            classifier = new Linear(s, "classifier", f, c, true, std);
            dropoutP = h.dropout();
        }

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

    /**
     * pre_classifier -> activation -> dropout -> classifier. With F -> F and ReLU this is
     * DistilBertForSequenceClassification's head; with F -> 512 it is the notebook's custom head.
     */
    static final class MlpHead implements Head {
        final Linear preClassifier; // F -> hidden
        final Linear classifier; // hidden -> C
        final String act;
        final double dropoutP;

        MlpHead(ParameterStore s, HeadConfig h, int f, int c, double std) {
            preClassifier = new Linear(s, "pre_classifier", f, h.hiddenSize(), true, std);
            classifier = new Linear(s, "classifier", h.hiddenSize(), c, true, std);
            act = h.activation();
            dropoutP = h.dropout();
        }

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

    /** dropout -> classifier.dense -> tanh -> dropout -> classifier.out_proj (RobertaClassificationHead). */
    static final class RobertaHead implements Head {
        final Linear dense; // F -> hidden
        final Linear outProj; // hidden -> C
        final String act;
        final double dropoutP;

        RobertaHead(ParameterStore s, HeadConfig h, int f, int c, double std) {
            dense = new Linear(s, "classifier.dense", f, h.hiddenSize(), true, std);
            outProj = new Linear(s, "classifier.out_proj", h.hiddenSize(), c, true, std);
            act = h.activation();
            dropoutP = h.dropout();
        }

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
