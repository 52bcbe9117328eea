package org.finetune4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RESULTS.md from run directories and a bench.json laid out as {@code train} and {@code bench} write
 * them (run_config.json as FineTuning.runConfig, bench.json as Benchmark.Result.toJson).
 */
class ResultsTableTest {
    @TempDir
    Path dir;

    @Test
    void eachRunDirectoryBecomesOneRowOfItsMetricsThroughputAndMemory() throws IOException {
        Path tweets = run("tweets-full", "/data/disaster-tweets/train.csv", "[\"0\", \"1\"]", "full", 1, 5e-5, 50, 0.0, 0.02,
                "none", "linear", "", 6166, 685, 0, 91.64, 1010.5);
        eval(tweets, "eval_", 0.83, 0.8, 0.82);
        Path sms = run("sms-lora", "/data/sms-spam-collection/SMSSpamCollection", "[\"ham\", \"spam\"]", "lora", 3, 5e-4, 0, 0.1,
                0.01, "balanced", "linear", """
                , "lora" : {"r" : 16, "lora_alpha" : 32.0, "lora_dropout" : 0.05, "target_modules" : ["query", "value"]}""",
                3619, 776, 776, 72.68, 2359.0);
        eval(sms, "eval_", 0.9923, 0.9691, 0.9823);
        eval(sms, "test_", 0.9871, 0.951, 0.9718);
        Path trec = run("trec-frozen", "/data/trec6/train.csv", "[\"ABBR\", \"DESC\", \"ENTY\"]", "frozen", 20, 1e-3, 0, 0.0, 0.0,
                "none", "mlp", "", 4842, 539, 500, 8912.8, 1151.2);
        eval(trec, "eval_", 0.8516, 0.8183, 0.8183);

        List<ResultsTable.Run> runs = List.of(ResultsTable.readRun(tweets), ResultsTable.readRun(sms), ResultsTable.readRun(trec));
        String page = new ResultsTable.Page("abc1234", "2026-12-05", new ResultsTable.Machine("AMD EPYC 9R14", 2), runs, null,
                List.of("./finetune4j train --train a.csv --output runs/x")).toMarkdown();

        assertTrue(page.contains("| disaster-tweets/train.csv | all-MiniLM-L6-v2 | full | 1 ep, lr 5e-5, batch 16, warmup 50,"
                + " wd 0.02 | 6,166 / 685 / 0 | 0.8300 | 0.8000 | 0.8200 | – | – | – | 91.6 | 1,011 |\n"), page);
        assertTrue(page.contains("| sms-spam-collection/SMSSpamCollection | all-MiniLM-L6-v2 | lora | 3 ep, lr 5e-4, batch 16,"
                + " warmup 10 %, wd 0.01, balanced class weights, r 16, α 32, query,value | 3,619 / 776 / 776 | 0.9923 | 0.9691"
                + " | 0.9823 | 0.9871 | 0.9510 | 0.9718 | 72.7 | 2,359 |\n"), page);
        // three classes: no positive class, so no F1 column value; macro-F1 stays
        assertTrue(page.contains("| trec6/train.csv | all-MiniLM-L6-v2 | frozen | 20 ep, lr 0.001, batch 16, mlp head"
                + " | 4,842 / 539 / 500 | 0.8516 | – | 0.8183 | – | – | – | 8,912.8 | 1,151 |\n"), page);
        assertTrue(page.contains("- commit: `abc1234`\n- machine: AMD EPYC 9R14, 2 cores\n"), page);
        assertTrue(page.contains("- date: 2026-12-05\n"), page);
        assertTrue(page.contains("```bash\n./finetune4j train --train a.csv --output runs/x\n```"), page);
        assertTrue(page.indexOf("disaster-tweets") < page.indexOf("sms-spam") && page.indexOf("sms-spam") < page.indexOf("trec6"),
                "rows keep the order the runs were given in");
    }

    @Test
    void benchRowsGiveTrainingPerStrategyAndInferenceAgainstOnnxRuntime() throws IOException {
        Path file = bench("warmup_steps");

        ResultsTable.Bench b = ResultsTable.readBench(file);

        assertEquals(10, b.untimedSteps(), "the key before the rename, warmup_steps, is read as well");
        assertEquals(List.of(
                new ResultsTable.TrainingRow("full", "fp32", true, 86.0, 0.47, 1080.0),
                new ResultsTable.TrainingRow("lora", "fp32", true, 123.4, 0.45, 1012.0),
                new ResultsTable.TrainingRow("frozen", "fp32", false, Double.NaN, Double.NaN, Double.NaN),
                new ResultsTable.TrainingRow("full", "bf16", true, 102.9, 0.563, 1058.0)), b.training());
        assertEquals(List.of(
                new ResultsTable.InferenceRow("fp32", 1, 89.7, Double.NaN),
                new ResultsTable.InferenceRow("fp32", 64, 317.0, 201.4),
                new ResultsTable.InferenceRow("bf16", 64, 338.5, 201.4)), b.inference());

        String page = new ResultsTable.Page("abc1234", "2026-12-05", new ResultsTable.Machine("AMD EPYC 9R14", 2), List.of(), b,
                List.of()).toMarkdown();
        assertTrue(page.contains("batch 16, max_length 128, 100 timed training steps after 10 untimed ones; fp32 matmul peak"
                + " 403.9 GFLOP/s."), page);
        assertTrue(page.contains("| full | fp32 | 86.0 | 47.0 % | 1,080 |\n"), page);
        assertTrue(page.contains("| frozen | fp32 | failed (see the bench's logs) | | |\n"), page);
        assertTrue(page.contains("| full | bf16 | 102.9 | 56.3 % | 1,058 |\n"), page);
        assertTrue(page.contains("| fp32 | 1 | 89.7 | – | – |\n"), page);
        assertTrue(page.contains("| fp32 | 64 | 317.0 | 201.4 | 1.57 × |\n"), page);
        assertTrue(page.contains("| bf16 | 64 | 338.5 | 201.4 | 1.68 × |\n"), page);
        assertTrue(page.contains("- engine: PyTorch 2.7.1, 2 intra-op threads, oneMKL CPU dispatch preloaded\n"), page);
        assertTrue(!page.contains("different CPU"), "the bench ran on this machine's CPU");
        assertTrue(!page.contains("## Fine-tuning"), "no runs, no table of runs");
    }

    @Test
    void untimedStepsAreReadUnderTheirNewName() throws IOException {
        assertEquals(10, ResultsTable.readBench(bench("untimed_steps")).untimedSteps());
    }

    @Test
    void aBenchFromAnotherCpuIsSaid() throws IOException {
        ResultsTable.Bench b = ResultsTable.readBench(bench("untimed_steps"));
        String page = new ResultsTable.Page("abc1234", "2026-12-05", new ResultsTable.Machine("Intel Xeon", 8), List.of(), b,
                List.of()).toMarkdown();
        assertTrue(page.contains("- note: the bench ran on a different CPU: AMD EPYC 9R14\n"), page);
    }

    @Test
    void aRunWithoutValidationOrTestHasNoScores() throws IOException {
        Path r = run("no-eval", "/data/x/train.csv", "[\"a\", \"b\"]", "full", 1, 5e-5, 0, 0.0, 0.0, "none", "linear", "", 10, 0,
                0, 1.0, 1.0);

        ResultsTable.Run run = ResultsTable.readRun(r);

        assertNull(run.validation());
        assertNull(run.test());
    }

    @Test
    void aDirectoryThatIsNotARunSaysWhatIsMissingAndWhatToPass() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResultsTable.readRun(dir));
        assertTrue(e.getMessage().contains(dir.resolve("run_config.json").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("./finetune4j train --output"), e.getMessage());

        IllegalArgumentException b = assertThrows(IllegalArgumentException.class,
                () -> ResultsTable.readBench(dir.resolve("bench.json")));
        assertTrue(b.getMessage().contains("./finetune4j bench --output"), b.getMessage());
    }

    @Test
    void aBrokenJsonFileIsNamed() throws IOException {
        Path r = Files.createDirectories(dir.resolve("broken"));
        Files.writeString(r.resolve("run_config.json"), "{\"model\": ");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResultsTable.readRun(r));
        assertTrue(e.getMessage().startsWith(r.resolve("run_config.json") + " is not valid JSON"), e.getMessage());
    }

    @Test
    void theMachineIsTheCpuModelOfProcCpuinfo() throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, """
                processor\t: 0
                vendor_id\t: AuthenticAMD
                model name\t: AMD EPYC 9R14 96-Core Processor
                flags\t\t: fpu avx512f

                processor\t: 1
                model name\t: AMD EPYC 9R14 96-Core Processor
                """);
        assertEquals("AMD EPYC 9R14 96-Core Processor", ResultsTable.machine(cpuinfo).cpu());
        assertEquals(Runtime.getRuntime().availableProcessors(), ResultsTable.machine(cpuinfo).cores());
        assertTrue(ResultsTable.machine(dir.resolve("missing")).cpu().contains("no model name in"));
    }

    @Test
    void numbersAreWrittenAsOnACommandLine() {
        assertEquals("5e-5", ResultsTable.fmtNumber(5e-5));
        assertEquals("3.5e-5", ResultsTable.fmtNumber(3.5e-5));
        assertEquals("0.001", ResultsTable.fmtNumber(1e-3));
        assertEquals("0.02", ResultsTable.fmtNumber(0.02));
        assertEquals("3", ResultsTable.fmtNumber(3.0));
        assertEquals("0", ResultsTable.fmtNumber(0.0));
    }

    @Test
    void benchNamesSplitIntoStrategyAndPrecision() {
        assertEquals(List.of("full", "fp32"), List.of(ResultsTable.strategyAndPrecision("full")));
        assertEquals(List.of("full", "bf16"), List.of(ResultsTable.strategyAndPrecision("full-bf16")));
        assertEquals(List.of("64", "bf16"), List.of(ResultsTable.strategyAndPrecision("64-bf16")));
    }

    // ---- files as train and bench write them ----

    private Path run(String name, String trainFile, String labels, String strategy, int epochs, double lr, int warmupSteps,
            double warmupRatio, double weightDecay, String classWeights, String head, String loraJson, int train, int validation,
            int test, double samplesPerSecond, double peakRssMb) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        Files.writeString(d.resolve("run_config.json"), """
                {
                  "model" : "all-MiniLM-L6-v2",
                  "model_dir" : "/root/.cache/finetune4j/models/all-MiniLM-L6-v2",
                  "data" : {
                    "train" : "%s", "validation" : null, "test" : null, "split" : [ 0.8, 0.1, 0.1 ],
                    "drop_duplicates" : true, "drop_empty" : true,
                    "sizes" : { "test" : %d, "validation" : %d, "train" : %d },
                    "labels" : %s
                  },
                  "head" : { "type" : "%s", "pooling" : "POOLER", "hidden_size" : 0, "activation" : "tanh", "dropout" : 0.1 },
                  "problem_type" : "single_label_classification",
                  "training" : {
                    "strategy" : "%s", "frozen_layers" : 0, "max_length" : 128, "group_by_length" : true,
                    "num_train_epochs" : %d, "per_device_train_batch_size" : 16, "per_device_eval_batch_size" : 16,
                    "gradient_accumulation_steps" : 1, "learning_rate" : %s, "weight_decay" : %s,
                    "lr_scheduler_type" : "linear", "warmup_ratio" : %s, "warmup_steps" : %d,
                    "class_weights" : "%s", "seed" : 42
                  },
                  "precision" : "fp32"%s,
                  "results" : {
                    "model" : "all-MiniLM-L6-v2", "strategy" : "%s", "train_examples" : %d,
                    "train_samples_per_second" : %s, "peak_rss_mb" : %s
                  },
                  "environment" : { "java" : "17.0.15", "os" : "Linux amd64", "cpus" : 2 }
                }
                """.formatted(trainFile, test, validation, train, labels, head, strategy, epochs, lr, weightDecay, warmupRatio,
                warmupSteps, classWeights, loraJson, strategy, train, samplesPerSecond, peakRssMb));
        return d;
    }

    private static void eval(Path run, String prefix, double accuracy, double f1, double macroF1) throws IOException {
        Files.writeString(run.resolve(prefix.equals("eval_") ? "eval_results.json" : "test_results.json"), """
                {
                  "%1$sloss" : 0.38, "%1$saccuracy" : %2$s, "%1$sf1" : %3$s, "%1$sprecision" : 0.8, "%1$srecall" : 0.8,
                  "%1$smacro_f1" : %4$s, "%1$sruntime" : 0.89, "%1$ssamples_per_second" : 40.3, "epoch" : 1.0
                }
                """.formatted(prefix, accuracy, f1, macroF1));
    }

    /** A bench.json of three fp32 strategies (frozen failed), full in bf16, and inference at batch 1 and 64. */
    private Path bench(String untimedKey) throws IOException {
        Path f = dir.resolve("bench-" + untimedKey + ".json");
        Files.writeString(f, """
                {"date":"2026-12-05T10:00:00Z","model":"all-MiniLM-L6-v2","data":"../shared/data/disaster-tweets/train.csv",
                 "settings":{"batch_size":16,"max_length":128,"%s":10,"steps":100,"seed":42},
                 "environment":{"device":"cpu","cpu":"AMD EPYC 9R14","cpu_features":["avx2","avx512f"],
                   "mkl_cpu_dispatch":"preloaded","engine":"PyTorch 2.7.1","intra_op_threads":2,"inter_op_threads":2,
                   "available_processors":2},
                 "peak_gflops":403.9,
                 "measurements":[
                  {"name":"peak","pid":1,"succeeded":true,"process_wall_s":5.0,"peak_rss_mb":350.0,
                   "result":{"peak_gflops":403.9,"median_gflops":398.0}},
                  {"name":"train-full","pid":2,"succeeded":true,"process_wall_s":30.0,"peak_rss_mb":1080.0,
                   "result":{"strategy":"full","samples_per_second":86.0,"model_gflops_per_second":190.0,"mfu":0.47}},
                  {"name":"train-lora","pid":3,"succeeded":true,"process_wall_s":20.0,"peak_rss_mb":1012.0,
                   "result":{"strategy":"lora","samples_per_second":123.4,"mfu":0.45}},
                  {"name":"train-frozen","pid":4,"succeeded":false,"process_wall_s":2.0,"exit_code":1,"error":"boom"},
                  {"name":"train-full-bf16","pid":5,"succeeded":true,"process_wall_s":25.0,"peak_rss_mb":1058.0,
                   "result":{"strategy":"full","samples_per_second":102.9,"mfu":0.563}},
                  {"name":"infer-1","pid":6,"succeeded":true,"process_wall_s":9.0,"peak_rss_mb":480.0,
                   "result":{"engine_name":"finetune4j (DJL PyTorch)","results":[{"batch_size":1,"samples_per_second":89.7}]}},
                  {"name":"infer-64","pid":7,"succeeded":true,"process_wall_s":9.0,"peak_rss_mb":700.0,
                   "result":{"engine_name":"finetune4j (DJL PyTorch)","results":[{"batch_size":64,"samples_per_second":317.0}]}},
                  {"name":"infer-64-bf16","pid":8,"succeeded":true,"process_wall_s":9.0,"peak_rss_mb":650.0,
                   "result":{"engine_name":"finetune4j (DJL PyTorch, bf16)","results":[{"batch_size":64,"samples_per_second":338.5}]}},
                  {"name":"onnx-64","pid":9,"succeeded":true,"process_wall_s":9.0,"peak_rss_mb":590.0,
                   "result":{"engine_name":"ONNX Runtime 1.23.2","results":[{"batch_size":64,"samples_per_second":201.4}]}}
                 ]}
                """.formatted(untimedKey));
        return f;
    }
}
