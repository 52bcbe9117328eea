package org.finetune4j.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.finetune4j.api.ModelLocator;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.text.TextTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Prints what a model is: architecture, sizes, parameter counts, vocabulary, labels. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Describe a model: architecture, layers, hidden size, parameters, vocabulary, labels.")
final class InspectCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory, packaged model id, or Hugging Face Hub id [org/]name[@revision].")
    String model;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Path dir = ModelLocator.resolve(model);
        Map<String, Object> info = describe(dir);
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(info));
        } else {
            info.forEach((k, v) -> {
                if (v instanceof Map<?, ?> entries) { // the notes: one to a line
                    System.out.println(k + ":");
                    entries.forEach((name, text) -> System.out.printf("  %-20s %s%n", name + ":", text));
                } else {
                    System.out.printf("%-22s %s%n", k + ":", v);
                }
            });
        }
        return 0;
    }

    static Map<String, Object> describe(Path dir) {
        Map<String, Object> info = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager()) {
            TransformerModel.Loaded loaded = TransformerModel.load(dir, m);
            try (TransformerModel tm = loaded.model()) {
                ModelConfig c = tm.config();
                info.put("directory", dir.toAbsolutePath().toString());
                info.put("architecture", c.architecture());
                info.put("model_type", c.encoder().modelType());
                info.put("layers", c.encoder().numLayers());
                info.put("hidden_size", c.encoder().hiddenSize());
                info.put("attention_heads", c.encoder().numHeads());
                info.put("max_positions", c.encoder().maxPositionEmbeddings());
                info.put("vocab_size", c.encoder().vocabSize());
                if (TextTokenizer.exists(dir)) {
                    try (TextTokenizer tok = TextTokenizer.load(dir, 0)) {
                        info.put("tokenizer_vocab", tok.vocabSize());
                    }
                } else { // as AutoModel.from_pretrained: the weights load; only commands that read text need one
                    info.put("tokenizer", "none (no tokenizer.json or vocab.txt: train, predict and serve need one)");
                }
                long total = tm.parameters().count();
                long embeddings = count(tm, tm.encoder().embeddingsPrefix());
                long head = tm.head() == null ? 0
                        : tm.parameters().params().values().stream()
                                .filter(p -> tm.head().modulePrefixes().stream().anyMatch(p.name()::startsWith))
                                .mapToLong(Param::numel).sum();
                info.put("parameters", total);
                info.put("parameters_embeddings", embeddings);
                info.put("parameters_layers", total - embeddings - head);
                info.put("parameters_head", head);
                if (c.isClassifier()) {
                    info.put("labels", c.labels());
                    info.put("problem_type", c.problemType().id());
                    info.put("head", c.head().type() + " (pooling " + c.head().pooling().id() + ")");
                    if (c.decisionThreshold() != null) {
                        info.put("decision_threshold", c.decisionThreshold());
                    }
                }
                if (!loaded.report().missing().isEmpty()) {
                    info.put("not_in_checkpoint", loaded.report().missing());
                }
                if (!c.notes().isEmpty()) {
                    info.put("notes", c.notes());
                }
            }
        }
        return info;
    }

    private static long count(TransformerModel tm, String prefix) {
        return tm.parameters().params().values().stream().filter(p -> p.name().startsWith(prefix)).mapToLong(Param::numel).sum();
    }
}
