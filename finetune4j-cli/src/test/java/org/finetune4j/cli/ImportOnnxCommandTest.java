package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.finetune4j.onnx.OnnxImporter;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.testing.TinyOnnx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ImportOnnxCommandTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void importsAndRefusesToOverwriteWithoutForce() throws Exception {
        Path onnx = tmp.resolve("model.onnx");
        Files.write(onnx, TinyOnnx.bert(TinyOnnx.Spec.tiny()).bytes());
        TinyModels.writeTokenizer(tmp);
        Path out = tmp.resolve("imported");
        String[] args = {"import-onnx", "--onnx", onnx.toString(), "--tokenizer", tmp.resolve("tokenizer.json").toString(),
            "--output", out.toString()};

        Run first = run(args);
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("BERT: 2 layers, hidden 8, 2 heads, intermediate 12"), first.out());
        assertTrue(first.out().contains("wrote: README.md, config.json, model.safetensors"), first.out());
        assertTrue(first.out().contains("no pooler"), first.out());
        assertEquals(List.of(), OnnxImporter.problems(out));

        Run again = run(args);
        assertEquals(2, again.code());
        assertTrue(again.err().contains("already exists and is not empty") && again.err().contains("--force"), again.err());

        String[] forced = java.util.Arrays.copyOf(args, args.length + 1);
        forced[args.length] = "--force";
        assertEquals(0, run(forced).code());
        assertEquals(List.of(), OnnxImporter.problems(out));

        // inspect prints the import notes one to a line, not as a Java map
        CliRun inspect = CliRun.of("inspect", "--model", out.toString());
        assertEquals(0, inspect.exitCode(), inspect.err());
        assertTrue(inspect.out().contains("\nnotes:\n  import_"), inspect.out());
        assertTrue(!inspect.out().contains("{import_"), inspect.out());
    }

    @Test
    void aBadFileIsOneClearLine() throws Exception {
        Path notOnnx = tmp.resolve("notes.onnx");
        Files.writeString(notOnnx, "not a model");
        TinyModels.writeTokenizer(tmp);
        Run r = run("import-onnx", "--onnx", notOnnx.toString(), "--tokenizer", tmp.resolve("tokenizer.json").toString(),
                "--output", tmp.resolve("out").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: " + notOnnx + ": not"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
