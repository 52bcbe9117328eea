package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.tune.ChildJvmTrials;
import org.finetune4j.tune.Direction;
import org.finetune4j.tune.Distribution;
import org.finetune4j.tune.SearchSpace;
import org.finetune4j.tune.StudyResult;
import org.finetune4j.tune.StudySettings;
import org.finetune4j.tune.TrialRecord;
import org.finetune4j.tune.TrialState;
import org.finetune4j.tune.Tuning;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tune on a tiny model: trials of train in child JVMs, in parallel, pruned, refit. */
class TuneCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path tmp;
    static Path model;
    static Path data;

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        model = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 1, tmp.resolve("tiny-bert"));
        List<String> rows = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < 40; i++) {
            rows.add(i % 2 == 0 ? "the storm flooded the town number " + i + ",disaster"
                    : "what a lovely sunny afternoon number " + i + ",calm");
        }
        data = tmp.resolve("tweets.csv");
        Files.write(data, rows);
    }

    @Test
    @Tag("slow")
    void threeTrialsTwoAtATimeKeepTheBestWeightsAndTheRefitSaysWhatItIs() throws Exception {
        Path out = tmp.resolve("study");
        CliRun r = CliRun.of("tune", "--model", model.toString(), "--train", data.toString(), "--split", "0.75,0.25",
                "--batch-size", "8", "--max-length", "32", "--space", "learning_rate=loguniform(1e-4,1e-2)",
                "--space", "num_train_epochs=int(1,2)", "--space", "seed=choice(5,6)", "--trials", "3", "--sampler", "random",
                "--sampler-seed", "3",
                "--parallel", "2", "--metric", "eval_accuracy", "--refit", "--output", out.toString());
        assertEquals(0, r.exitCode(), r.err());

        JsonNode j = JSON.readTree(out.resolve("tune.json").toFile());
        assertEquals("maximize", j.get("settings").get("direction").asText(), "accuracy is maximised by default");
        assertEquals(List.of("--model", model.toString(), "--train", data.toString(), "--split", "0.75,0.25", "--batch-size", "8",
                "--max-length", "32", "--metric-for-best-model", "accuracy", "--split-seed", "42"),
                JSON.convertValue(j.get("settings").get("train_args"), List.class),
                "the fixed train options, as given; each trial's best checkpoint chosen by the study's metric; the split's seed"
                        + " fixed at --seed's because seed is searched");
        JsonNode trials = j.get("trials");
        assertEquals(3, trials.size());
        double previous = Double.POSITIVE_INFINITY;
        for (JsonNode t : trials) {
            assertEquals("COMPLETE", t.get("state").asText(), t.toString());
            double v = t.get("value").asDouble();
            assertTrue(v <= previous, "sorted best first: " + trials);
            previous = v;
            assertEquals(t.get("params").get("num_train_epochs").asInt(), t.get("epoch").asDouble(), 1e-9,
                    "each trial trained its own epochs");
            assertEquals(t.get("params").get("num_train_epochs").asInt(), t.get("intermediate").size(), "one evaluation per epoch");
            assertTrue(t.get("peak_rss_mb").asDouble() > 50, "a JVM with PyTorch loaded");
            JsonNode rc = JSON.readTree(out.resolve("trial-" + t.get("trial").asInt()).resolve("run_config.json").toFile());
            assertEquals(t.get("params").get("seed").asLong(), rc.get("training").get("seed").asLong(), "the searched seed");
            assertEquals(42, rc.get("data").get("split_seed").asLong(), "every trial's split made with the same seed");
        }
        int best = j.get("best").get("trial").asInt();
        assertEquals(trials.get(0).get("trial").asInt(), best);
        assertEquals(trials.get(0).get("params"), j.get("best").get("params"));

        // --parallel 2: trials 0 and 1 ran at the same time.
        Map<Integer, JsonNode> byNumber = new java.util.HashMap<>();
        trials.forEach(t -> byNumber.put(t.get("trial").asInt(), t));
        Instant s0 = Instant.parse(byNumber.get(0).get("started").asText());
        Instant f0 = Instant.parse(byNumber.get(0).get("finished").asText());
        Instant s1 = Instant.parse(byNumber.get(1).get("started").asText());
        Instant f1 = Instant.parse(byNumber.get(1).get("finished").asText());
        assertTrue(s1.isBefore(f0) && s0.isBefore(f1), "overlapping trials: " + s0 + "-" + f0 + ", " + s1 + "-" + f1);

        for (int n = 0; n < 3; n++) {
            Path dir = out.resolve("trial-" + n);
            assertEquals(n == best, Files.exists(dir.resolve("model.safetensors")), "only the best keeps its weights: trial " + n);
            assertTrue(Files.isRegularFile(dir.resolve("eval_results.json")) && Files.isRegularFile(dir.resolve("metrics.jsonl")));
            if (n != best) {
                try (var s = Files.list(dir)) {
                    assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith("checkpoint-")), "trial " + n + " checkpoints");
                }
            }
        }
        assertTrue(Files.isRegularFile(out.resolve("refit/model.safetensors")), "the refit model");
        assertFalse(Files.exists(out.resolve("refit/eval_results.json")), "the refit has no validation left to evaluate on");
        assertTrue(r.out().contains("does not apply to this model"), r.out());
        assertTrue(Files.readString(out.resolve("tune.md")).contains("## Refit"));
        assertTrue(Files.isRegularFile(out.resolve("report.html")));
        assertTrue(Files.readAllLines(out.resolve("study.jsonl")).get(0).contains("\"event\":\"settings\""));
    }

    @Test
    @Tag("slow")
    void aPrunedTrialsChildProcessIsGoneAndItsRecordKept() throws Exception {
        Path out = tmp.resolve("pruned");
        SearchSpace space = new SearchSpace(Map.of("num_train_epochs", new Distribution.IntRange(1, 30, 1, false)));
        StudySettings settings = new StudySettings(space, "eval_loss", Direction.MINIMIZE, "fixed", 0, "test", 2, List.of());
        TuneParams names = new TuneParams();
        ChildJvmTrials runner = new ChildJvmTrials(Main.class.getName(), (params, runDir) -> {
            List<String> args = new ArrayList<>(List.of("train", "--output", runDir.toString(), "--quiet", "--model",
                    model.toString(), "--train", data.toString(), "--split", "0.75,0.25", "--batch-size", "8", "--max-length", "32"));
            args.addAll(names.args(params));
            return args;
        }, out.resolve("logs"), 1);
        // Trial 0 trains 1 epoch; trial 1 would train 30 but is pruned at its first evaluation.
        StudyResult r = Tuning.run(new Tuning.Spec(settings, out, false, false, 1, null, false, 100),
                (s, history, n, d) -> Map.of("num_train_epochs", n == 0 ? 1 : 30),
                (trial, step, others, d) -> trial.number() == 1, runner, x -> { });

        TrialRecord pruned = r.trials().get(1);
        assertEquals(TrialState.COMPLETE, r.trials().get(0).state());
        assertEquals(TrialState.PRUNED, pruned.state());
        assertEquals(1, pruned.intermediate().size(), "stopped at its first evaluation");
        assertTrue(pruned.epoch() < 30);
        assertFalse(ProcessHandle.of(pruned.pid()).map(ProcessHandle::isAlive).orElse(false),
                "the pruned trial's JVM (pid " + pruned.pid() + ") is gone");
        String journal = Files.readString(out.resolve("study.jsonl"));
        assertTrue(journal.contains("\"trial\":1,\"state\":\"PRUNED\""), journal);
    }

    @Test
    @Tag("slow")
    void aTimeoutStartsNoTrialAfterItAndSaysSoAndAJsonSpaceFileIsTheSpace() throws Exception {
        Path out = tmp.resolve("timeout");
        Path spaceFile = tmp.resolve("space.json");
        Files.writeString(spaceFile, "{\"learning_rate\": \"loguniform(1e-4,1e-2)\",\n"
                + " \"num_train_epochs\": {\"type\": \"int\", \"low\": 1, \"high\": 2}}\n");
        CliRun r = CliRun.of("tune", "--model", model.toString(), "--train", data.toString(), "--split", "0.75,0.25",
                "--batch-size", "8", "--max-length", "32", "--space-file", spaceFile.toString(), "--trials", "3",
                "--sampler", "random", "--timeout", "1s", "--output", out.toString());
        assertEquals(0, r.exitCode(), r.err());

        JsonNode j = JSON.readTree(out.resolve("tune.json").toFile());
        assertEquals(1, j.get("trials").size(), "trial 0 started at once and ran past the 1 s timeout; no other started");
        assertEquals(Map.of("type", "loguniform", "low", 1e-4, "high", 1e-2),
                JSON.convertValue(j.get("settings").get("space").get("learning_rate"), Map.class), "the file's first parameter");
        assertEquals("int", j.get("settings").get("space").get("num_train_epochs").get("type").asText());
        JsonNode t = j.get("trials").get(0);
        assertEquals("COMPLETE", t.get("state").asText());
        double lr = t.get("params").get("learning_rate").asDouble();
        assertTrue(lr >= 1e-4 && lr <= 1e-2, "sampled from the file's range: " + lr);
        assertTrue(t.get("params").get("num_train_epochs").isInt(), t.toString());
        String why = "the --timeout of 1 s was reached, so no trial started after it; 1 of 3 trials done. `tune --resume " + out
                + "` runs the other 2.";
        assertEquals(why, j.get("stopped").asText());
        assertTrue(r.err().contains(why), r.err());
        assertTrue(Files.readString(out.resolve("tune.md")).contains("**Stopped early**: " + why));
        assertTrue(r.out().contains("**Stopped early**"), "the printed table says so too");
        try (var s = Files.list(out)) {
            assertEquals(List.of("trial-0"), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("trial-")).toList());
        }
    }

    @Test
    @Tag("slow")
    void aGridRunsEachPointOnceWhateverTheTrialsAndAYamlSpaceFileIsTheSpace() throws Exception {
        Path out = tmp.resolve("grid");
        Path spaceFile = tmp.resolve("space.yaml");
        Files.writeString(spaceFile, "# every learning rate once\nlearning_rate:\n  type: choice\n  values: [0.001, 0.003]\n"
                + "num_train_epochs: choice(1)\n");
        CliRun r = CliRun.of("tune", "--model", model.toString(), "--train", data.toString(), "--split", "0.75,0.25",
                "--batch-size", "8", "--max-length", "32", "--space-file", spaceFile.toString(), "--trials", "5",
                "--sampler", "grid", "--output", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.err().contains("--trials 5 exceeds the grid's 2 points: running 2"), r.err());

        JsonNode j = JSON.readTree(out.resolve("tune.json").toFile());
        assertEquals(2, j.get("settings").get("trials").asInt());
        assertEquals("grid", j.get("settings").get("sampler").asText());
        List<Double> rates = new ArrayList<>();
        j.get("trials").forEach(t -> {
            assertEquals("COMPLETE", t.get("state").asText(), t.toString());
            assertEquals(1, t.get("params").get("num_train_epochs").asInt());
            rates.add(t.get("params").get("learning_rate").asDouble());
        });
        rates.sort(null);
        assertEquals(List.of(0.001, 0.003), rates, "each grid point once");
        assertTrue(Files.readString(out.resolve("tune.md")).contains("2 of 2 trials run"), Files.readString(out.resolve("tune.md")));
    }

    @Test
    void badSpacesAreRefusedBeforeAnyTrial() {
        Path out = tmp.resolve("refused");
        CliRun unknown = CliRun.of("tune", "--train", data.toString(), "--space", "learning_rte=uniform(0,1)", "--output", out.toString());
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown parameter \"learning_rte\"") && unknown.err().contains("learning_rate, ")
                && unknown.err().contains("num_train_epochs"), unknown.err());
        CliRun both = CliRun.of("tune", "--train", data.toString(), "--space", "learning_rate=loguniform(1e-5,1e-3)",
                "--learning-rate", "1e-4", "--output", out.toString());
        assertEquals(2, both.exitCode());
        assertTrue(both.err().contains("learning_rate is also given as the fixed option --learning-rate"), both.err());
        CliRun fractional = CliRun.of("tune", "--train", data.toString(), "--space", "num_train_epochs=uniform(1,3)",
                "--output", out.toString());
        assertEquals(2, fractional.exitCode());
        assertTrue(fractional.err().contains("--epochs takes whole numbers"), fractional.err());
        CliRun renamed = CliRun.of("tune", "--train", data.toString(), "--space", "epochs=int(1,3)", "--output", out.toString());
        assertTrue(renamed.err().contains("unknown parameter \"epochs\""), "one name per concept: num_train_epochs");
        assertFalse(Files.exists(out), "nothing was written");

        Map<String, Object> p = new java.util.LinkedHashMap<>();
        p.put("num_train_epochs", 3);
        p.put("learning_rate", 1e-4);
        p.put("group_by_length", false);
        p.put("per_device_train_batch_size", 16.0);
        assertEquals(List.of("--epochs", "3", "--learning-rate", "1.0E-4", "--no-group-by-length", "--batch-size", "16"),
                new TuneParams().args(p));
    }
}
