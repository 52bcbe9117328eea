package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.finetune4j.testing.TinyOnnx;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench on a tiny imported ONNX model: every measurement in its own process, ONNX Runtime on the same graph, charts. */
class BenchCommandTest {
    @TempDir
    static Path tmp;
    static Path onnx;
    static Path model;
    static Path data;

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        onnx = tmp.resolve("tiny.onnx");
        Files.write(onnx, TinyOnnx.bert(TinyOnnx.Spec.tiny()).bytes());
        TinyModels.writeTokenizer(tmp);
        model = tmp.resolve("tiny");
        CliRun imported = CliRun.of("import-onnx", "--onnx", onnx.toString(), "--tokenizer", tmp.resolve("tokenizer.json").toString(),
                "--output", model.toString());
        assertEquals(0, imported.exitCode(), imported.err());
        List<String> rows = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < 40; i++) {
            rows.add(i % 2 == 0 ? "the storm flooded the town and the river rose " + i + ",disaster" : "sunny " + i + ",calm");
        }
        data = tmp.resolve("tweets.csv");
        Files.write(data, rows);
    }

    @Test
    void measuresEachThingInItsOwnProcessAndWritesTablesJsonAndCharts() throws Exception {
        Path out = tmp.resolve("bench");
        Path charts = tmp.resolve("charts");
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--train", data.toString(), "--strategies", "full,lora",
                "--lora-r", "2", "--batch-size", "4", "--max-length", "16", "--untimed-steps", "1", "--steps", "3",
                "--inference-batches", "1,4", "--inference-samples", "8", "--onnx", "--onnx-file", onnx.toString(),
                "--onnx-batches", "4", "--peak-matrix", "64", "--scaling-dir", charts.toString(), "--scaling-lengths", "8,16",
                "--scaling-batches", "1,4", "--scaling-sizes", "8,16", "--scaling-steps", "1", "--output", out.toString());
        assertEquals(0, r.exitCode(), r.err());

        JsonNode j = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertEquals("cpu", j.get("environment").get("device").asText());
        assertTrue(j.get("environment").get("cpu_features").isArray(), "the SIMD features that decide bf16 support");
        assertTrue(j.get("environment").get("intra_op_threads").asInt() >= 1);
        assertTrue(j.get("peak_gflops").asDouble() > 0);
        Set<Long> pids = new HashSet<>(Set.of(ProcessHandle.current().pid()));
        List<String> names = new ArrayList<>();
        for (JsonNode m : j.get("measurements")) {
            names.add(m.get("name").asText());
            assertTrue(m.get("succeeded").asBoolean(), m.toString());
            assertTrue(pids.add(m.get("pid").asLong()), "a process per measurement: " + m.get("name"));
            assertTrue(m.get("peak_rss_mb").asDouble() > 20, m.toString());
        }
        assertEquals(List.of("peak", "train-full", "train-lora", "infer-1", "infer-4", "onnx-4", "scale-length", "scale-batch",
                "scale-data"), names);

        JsonNode full = j.get("measurements").get(1).get("result");
        JsonNode lora = j.get("measurements").get(2).get("result");
        assertEquals(3, full.get("timed_steps").asInt());
        assertEquals(1, full.get("untimed_steps").asInt());
        assertEquals(1, j.get("settings").get("untimed_steps").asInt());
        assertEquals(12, full.get("samples").asInt(), "3 timed steps of 4");
        for (String k : List.of("samples_per_second", "real_tokens_per_second", "forward_ms_per_step", "backward_ms_per_step",
                "optimizer_ms_per_step", "mfu")) {
            assertTrue(full.get(k).asDouble() > 0, k + " = " + full.get(k));
        }
        assertTrue(full.get("padded_tokens_per_second").asDouble() >= full.get("real_tokens_per_second").asDouble());
        double pad = full.get("padding_fraction").asDouble();
        assertTrue(pad >= 0 && pad < 1);
        assertEquals("[3,3]", full.get("flops_multipliers").toString());
        assertEquals("[2,2]", lora.get("flops_multipliers").toString());
        assertTrue(lora.get("trainable_params").asLong() < full.get("trainable_params").asLong());

        JsonNode ours1 = j.get("measurements").get(3).get("result").get("results");
        JsonNode ours = j.get("measurements").get(4).get("result").get("results");
        JsonNode ort = j.get("measurements").get(5).get("result").get("results");
        assertEquals(1, ours1.get(0).get("batch_size").asInt());
        assertEquals(1, ours.size());
        assertEquals(4, ours.get(0).get("batch_size").asInt());
        assertEquals(4, ort.get(0).get("batch_size").asInt());
        assertEquals(ours.get(0).get("padding_fraction").asDouble(), ort.get(0).get("padding_fraction").asDouble(), 1e-12,
                "the same batches through both engines");
        assertTrue(ort.get(0).get("samples_per_second").asDouble() > 0);

        String md = Files.readString(out.resolve("bench.md"));
        assertTrue(md.contains("| strategy | trainable params | samples/s |"), md);
        assertTrue(md.contains("| full | ") && md.contains("| lora | "), md);
        assertTrue(md.contains("ONNX Runtime"), md);
        for (String png : List.of("scaling_length.png", "scaling_length_tokens.png", "scaling_batch.png", "scaling_data.png")) {
            byte[] b = Files.readAllBytes(charts.resolve(png));
            assertTrue(b.length > 1000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png);
        }
        JsonNode lengths = j.get("measurements").get(6).get("result").get("points");
        assertEquals(16, lengths.get(1).get("sequence_length").asInt());
        assertEquals(lengths.get(1).get("train_tokens_per_second").asDouble(),
                16 * lengths.get(1).get("train_samples_per_second").asDouble(), 1e-6, "exactly 16 tokens per text, no padding");
    }

    /** --random-weights: a config.json and a tokenizer suffice; one more layer in the config is one more layer's parameters. */
    @Test
    void randomWeightsMeasureTheShapeInConfigJsonWithoutAWeightsFile() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode config = (com.fasterxml.jackson.databind.node.ObjectNode)
                new ObjectMapper().readTree(model.resolve("config.json").toFile());
        int h = config.get("hidden_size").asInt();
        int inter = config.get("intermediate_size").asInt();
        long[] trainable = new long[2];
        for (int extra = 0; extra < 2; extra++) {
            Path shape = tmp.resolve("shape-" + extra);
            Files.createDirectories(shape);
            config.put("num_hidden_layers", config.get("num_hidden_layers").asInt() + extra);
            Files.writeString(shape.resolve("config.json"), config.toString());
            for (String f : List.of("tokenizer.json", "tokenizer_config.json")) {
                if (Files.exists(model.resolve(f))) {
                    Files.copy(model.resolve(f), shape.resolve(f));
                }
            }
            Path out = tmp.resolve("bench-random-" + extra);
            CliRun r = CliRun.of("bench", "--model", shape.toString(), "--random-weights", "--train", data.toString(),
                    "--strategies", "full", "--batch-size", "4", "--max-length", "16", "--untimed-steps", "0", "--steps", "1",
                    "--inference-batches", "4", "--inference-samples", "4", "--peak-matrix", "32", "--output", out.toString());
            assertEquals(0, r.exitCode(), r.err());
            JsonNode j = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
            trainable[extra] = j.get("measurements").get(1).get("result").get("trainable_params").asLong();
            assertTrue(Files.notExists(out.resolve("random-model")), "the random weights are not kept");
        }
        long layer = 4L * (h * h + h) + 2 * 2 * h + ((long) h * inter + inter) + ((long) inter * h + h);
        assertEquals(layer, trainable[1] - trainable[0]);
    }

    @Test
    void loraSettingsTheBenchDoesNotTimeAreRefused() {
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--train", data.toString(), "--strategies", "lora",
                "--lora-dropout", "0.2", "--output", tmp.resolve("bench-dropout").toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("leave --lora-dropout, --lora-layers, --lora-bias and --use-rslora at their defaults"), r.err());
    }

    @Test
    void aFailedMeasurementIsReportedAndTheOthersStillRun() throws Exception {
        Path out = tmp.resolve("bench-fail");
        // partial with 5 frozen layers is impossible on a 2-layer model; the inference measurement still runs.
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--train", data.toString(), "--strategies", "partial",
                "--frozen-layers", "5", "--batch-size", "4", "--max-length", "16", "--untimed-steps", "0", "--steps", "1",
                "--inference-batches", "4", "--inference-samples", "8", "--peak-matrix", "32", "--output", out.toString());
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.err().contains("error: measurement train-partial failed (exit 2)"), r.err());
        assertTrue(r.err().contains("--frozen-layers 5 exceeds the model's 2 layers"), r.err());
        JsonNode j = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertTrue(j.get("measurements").get(2).get("succeeded").asBoolean(), "infer ran after the failure");
        assertTrue(Files.readString(out.resolve("bench.md")).contains("**train-partial failed**"));
    }
}
