package org.finetune4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.finetune4j.api.ModelLocator;
import org.finetune4j.api.SentenceEncoder;
import org.finetune4j.config.Pooling;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Sentence embeddings: one JSON array of floats per text, one per line. */
@Command(name = "encode", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Print sentence embeddings: one JSON array of floats per input text, one per line.")
final class EncodeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Model directory, packaged model id, or Hugging Face Hub id [org/]name[@revision].")
    String model;

    @Option(names = "--pooling", defaultValue = "mean", description = "mean or cls (default: ${DEFAULT-VALUE}).")
    String pooling;

    @Option(names = "--normalize", description = "Scale each embedding to unit length (for cosine similarity).")
    boolean normalize;

    @Option(names = "--max-length", defaultValue = "0", description = "Truncate texts to this many tokens (0: the model's limit).")
    int maxLength;

    @Option(names = "--text", arity = "1..*", description = "Texts to encode.")
    List<String> texts = new ArrayList<>();

    @Option(names = "--input", description = "A UTF-8 file with one text per line (instead of --text).")
    Path input;

    @Override
    public Integer call() throws Exception {
        Pooling p = Pooling.parse(pooling);
        if (p == Pooling.POOLER) {
            throw new UserError("--pooling must be mean or cls");
        }
        List<String> all = new ArrayList<>(texts);
        if (input != null) {
            if (!Files.isRegularFile(input)) {
                throw new UserError("--input " + input + ": no such file");
            }
            all.addAll(Files.readAllLines(input));
        }
        if (all.isEmpty()) {
            throw new UserError("nothing to encode: give --text T... or --input FILE");
        }
        ObjectMapper json = new ObjectMapper();
        try (SentenceEncoder enc = SentenceEncoder.load(ModelLocator.resolve(model), maxLength)) {
            for (float[] v : enc.encode(all, p, normalize)) {
                System.out.println(json.writeValueAsString(v));
            }
        }
        return 0;
    }
}
