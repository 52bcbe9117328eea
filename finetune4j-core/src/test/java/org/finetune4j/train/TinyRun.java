package org.finetune4j.train;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.data.Batches;
import org.finetune4j.data.DataReader;
import org.finetune4j.data.Dataset;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.data.LabelSet;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;

/** A tiny labelled dataset and tiny models, wired into a {@link Trainer} for tests. */
final class TinyRun {
    static final String[] POSITIVE = {"good", "great", "excellent", "lovely", "superb", "wonderful", "nice", "fine"};
    static final String[] NEGATIVE = {"bad", "awful", "terrible", "horrible", "poor", "dreadful", "nasty", "ugly"};

    /** 2n examples: "the movie was good" / "... bad" with a few fillers, ids in order. */
    static Path writeCsv(Path dir, String name, int n, int offset) throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add("id,text,label");
        String[] fillers = {"the movie was", "honestly a", "what a", "it felt", "the food is", "service was really"};
        for (int i = 0; i < n; i++) {
            String f = fillers[(i + offset) % fillers.length];
            lines.add((2 * i) + "," + f + " " + POSITIVE[(i + offset) % POSITIVE.length] + ",pos");
            lines.add((2 * i + 1) + "," + f + " " + NEGATIVE[(i + offset + 3) % NEGATIVE.length] + ",neg");
        }
        Path p = dir.resolve(name);
        Files.write(p, lines);
        return p;
    }

    static EncodedDataset encode(Path csv, TextTokenizer tok, LabelSet labels) {
        Dataset d = DataReader.read(csv, ReadOptions.of("text", "label"));
        return EncodedDataset.encode(d, tok, labels == null ? LabelSet.fromTraining(d) : labels);
    }

    static BertConfig bertNoDropout() {
        BertConfig b = TinyModels.bert();
        return new BertConfig("bert", b.vocabSize(), b.hiddenSize(), b.numLayers(), b.numHeads(), b.intermediateSize(),
                b.hiddenAct(), 0.0, 0.0, b.maxPositionEmbeddings(), b.typeVocabSize(), b.initializerRange(), b.layerNormEps(),
                b.padTokenId(), 0.1);
    }

    static TransformerModel model(EncoderConfig enc, HeadConfig head, List<String> labels, NDManager m, long seed) {
        ModelConfig cfg = ModelConfig.encoderOnly(enc).withClassifier(labels, ProblemType.SINGLE_LABEL, head);
        return TransformerModel.random(cfg, m, seed);
    }

    static Trainer.Setup setup(TrainingConfig cfg, TransformerModel model, Examples train, int[] lengths, Examples val,
            Path out, TextTokenizer tok, TrainerListener listener) {
        List<Param> trainable = Strategies.apply(model, cfg, Set.of());
        Batches.Order order = cfg.groupByLength() ? Batches.Order.LENGTH_GROUPED : Batches.Order.SHUFFLED;
        return new Trainer.Setup(cfg, trainable, LayerwiseLr.of(model), train,
                epoch -> Batches.plan(lengths, cfg.perDeviceTrainBatchSize(), order, cfg.seed(), epoch), val, false, null,
                new StandardMetrics(model.config().labels(), false, null), new ModelCheckpointFormat(model, tok, null), out,
                TrainerListener.all(new MemoryProbe(model.manager().getParentManager()), listener));
    }

    private TinyRun() {
    }
}
