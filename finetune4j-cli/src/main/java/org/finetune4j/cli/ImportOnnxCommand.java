package org.finetune4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.finetune4j.config.BertConfig;
import org.finetune4j.onnx.OnnxImporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code finetune4j import-onnx}: turns a BERT ONNX export into a Hugging Face model directory. */
@Command(name = "import-onnx", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Import a BERT encoder exported to ONNX (weights inside the .onnx file) into a Hugging Face model"
                + " directory: config.json, model.safetensors, tokenizer files and a README saying where it came from.",
                "The packaged models (all-MiniLM-L6-v2, bge-small-en-v1.5) need no import: name them by id."})
final class ImportOnnxCommand implements Callable<Integer> {

    @Option(names = "--onnx", required = true, paramLabel = "FILE", description = "The .onnx export of a BERT encoder.")
    Path onnx;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "The model's tokenizer.json.")
    Path tokenizer;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "The model directory to create.")
    Path output;

    @Option(names = "--force", description = "Replace OUTPUT if it exists and is not empty.")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!force && isNonEmptyDirectory(output)) {
            throw new UserError(output + " already exists and is not empty. Choose another --output, or pass --force to"
                    + " replace it.");
        }
        OnnxImporter.Imported imported = OnnxImporter.importFiles(onnx, tokenizer, output, force);
        BertConfig c = imported.config();
        PrintWriter out = spec.commandLine().getOut();
        out.printf("Imported %s into %s%n", onnx, imported.dir());
        out.printf("  BERT: %d layers, hidden %d, %d heads, intermediate %d, vocabulary %d, %d positions, %s%n",
                c.numLayers(), c.hiddenSize(), c.numHeads(), c.intermediateSize(), c.vocabSize(),
                c.maxPositionEmbeddings(), c.hiddenAct());
        out.printf("  sha256 of the export: %s%n", imported.modelConfig().notes().get(OnnxImporter.NOTE_SHA256));
        out.printf("  wrote: %s%n", String.join(", ", imported.files()));
        if (!imported.hasPooler()) {
            out.println("  note: the export has no pooler; pooler.dense.* is absent and would be newly initialised"
                    + " by a loader that needs it (see config.json, finetune4j.notes).");
        }
        out.flush();
        return 0;
    }

    private static boolean isNonEmptyDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isPresent();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }
}
