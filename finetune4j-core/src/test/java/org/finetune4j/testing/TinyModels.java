package org.finetune4j.testing;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.finetune4j.config.AlbertConfig;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.DebertaV2Config;
import org.finetune4j.config.DistilBertConfig;
import org.finetune4j.config.ElectraConfig;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.MPNetConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Tiny random models for fast tests (hidden 32, 2 layers, 4 heads, as transformers' own tests use),
 * with the real uncased WordPiece tokenizer that ships inside the packaged MiniLM jar, so they tokenise
 * real text and need nothing outside the classpath. The one fixture for every module's tests: configs,
 * a classifier head, a saved model directory, and {@link Fixture} for a test class's manager and tokenizer.
 */
public final class TinyModels {
    /** The uncased BERT vocabulary size of the packaged tokenizer. */
    public static final int VOCAB = 30522;

    private TinyModels() {
    }

    public static BertConfig bert() {
        return BertConfig.tiny("bert", VOCAB);
    }

    public static DistilBertConfig distilbert() {
        return DistilBertConfig.tiny(VOCAB);
    }

    /** RoBERTa shares the vocabulary here only so the same tokenizer works; its pad id is 1 as in roberta-base. */
    public static BertConfig roberta() {
        return BertConfig.tiny("roberta", VOCAB);
    }

    /** XLM-RoBERTa on the same vocabulary (its own is SentencePiece, 250,002 ids); pad id 1, layer_norm_eps 1e-5. */
    public static BertConfig xlmRoberta() {
        return BertConfig.tiny("xlm-roberta", VOCAB);
    }

    /** ELECTRA with embeddings 16 wide under hidden 32, so embeddings_project is exercised (electra-small's shape). */
    public static ElectraConfig electra() {
        return ElectraConfig.tiny(VOCAB);
    }

    /** A DeBERTa-v3 layout (8 log buckets, shared attention key), on the same vocabulary so the same tokenizer works. */
    public static DebertaV2Config deberta() {
        return DebertaV2Config.tiny(VOCAB);
    }

    /** MPNet with the same vocabulary and tokenizer; its padding_idx is 1 as in mpnet-base. */
    public static MPNetConfig mpnet() {
        return MPNetConfig.tiny(VOCAB);
    }

    /** ALBERT with 16-wide embeddings and one layer group shared by both layers. */
    public static AlbertConfig albert() {
        return AlbertConfig.tiny(VOCAB);
    }

    public static EncoderConfig of(String modelType) {
        return switch (modelType) {
            case "bert" -> bert();
            case "distilbert" -> distilbert();
            case "roberta" -> roberta();
            case "xlm-roberta" -> xlmRoberta();
            case "electra" -> electra();
            case "deberta-v2" -> deberta();
            case "mpnet" -> mpnet();
            case "albert" -> albert();
            default -> throw new IllegalArgumentException(modelType);
        };
    }

    /** A single-label classifier on {@code encoder} with the standard head, as transformers' *ForSequenceClassification. */
    public static ModelConfig classifier(EncoderConfig encoder, List<String> labels) {
        return ModelConfig.encoderOnly(encoder).withClassifier(labels, ProblemType.SINGLE_LABEL, HeadConfig.standard(encoder));
    }

    /**
     * Saves a random model of {@code config} (initialised from {@code seed}) and the packaged tokenizer
     * into {@code dir}: a model directory that the CLI, the server and the Hub client load as they would
     * a downloaded checkpoint.
     */
    public static Path save(ModelConfig config, long seed, Path dir) {
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.random(config, m, seed)) {
            model.save(dir);
        }
        writeTokenizer(dir);
        return dir;
    }

    /** Copies the packaged uncased tokenizer.json into {@code dir}. */
    public static void writeTokenizer(Path dir) {
        try (InputStream in = TinyModels.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) {
                throw new IllegalStateException("the packaged MiniLM jar is not on the test classpath");
            }
            Files.createDirectories(dir);
            Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The packaged tokenizer, truncating to {@code maxLength} tokens (0: no truncation); the caller closes it. */
    public static TextTokenizer tokenizer(int maxLength) {
        try {
            Path dir = Files.createTempDirectory("finetune4j-tokenizer");
            try {
                writeTokenizer(dir);
                return TextTokenizer.load(dir, maxLength); // reads the file whole: the folder can go
            } finally {
                Files.deleteIfExists(dir.resolve("tokenizer.json"));
                Files.delete(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One NDManager and the packaged tokenizer (no truncation) for all tests of a class, closed after
     * the last one: {@code @RegisterExtension static final TinyModels.Fixture TINY = new TinyModels.Fixture();}
     */
    public static final class Fixture implements BeforeAllCallback, AfterAllCallback {
        private NDManager manager;
        private TextTokenizer tokenizer;

        @Override
        public void beforeAll(ExtensionContext context) {
            manager = NDManager.newBaseManager();
            tokenizer = TinyModels.tokenizer(0);
        }

        @Override
        public void afterAll(ExtensionContext context) {
            tokenizer.close();
            manager.close();
        }

        public NDManager manager() {
            return manager;
        }

        public TextTokenizer tokenizer() {
            return tokenizer;
        }

        /** A random model of {@code config} from {@code seed}, on this fixture's manager. */
        public TransformerModel random(ModelConfig config, long seed) {
            return TransformerModel.random(config, manager, seed);
        }
    }
}
