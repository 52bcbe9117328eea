package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.train.TrainingConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The training options' defaults are TrainingConfig's and LoraConfig's, in train, compare and bench alike. */
class TrainingOptionsTest {

    /** Each component of {@code actual} equals that of {@code expected}, named in the message when not. */
    private static void assertSameComponents(Record expected, Record actual) throws Exception {
        for (RecordComponent c : expected.getClass().getRecordComponents()) {
            assertEquals(c.getAccessor().invoke(expected), c.getAccessor().invoke(actual), c.getName());
        }
    }

    private static TrainCommand train(CommandLine.IDefaultValueProvider defaults, String... args) {
        TrainCommand cmd = new TrainCommand();
        CommandLine cl = new CommandLine(cmd);
        if (defaults != null) {
            cl.setDefaultValueProvider(defaults);
        }
        cl.parseArgs(args);
        return cmd;
    }

    @Test
    void trainWithoutOptionsTrainsAsTheLibraryDefaults() throws Exception {
        TrainCommand cmd = train(null);
        assertSameComponents(TrainingConfig.builder().build(), cmd.training.toConfig(cmd.strategy));
        assertSameComponents(LoraConfig.DEFAULTS, cmd.training.lora.toConfig());
    }

    @Test
    void compareAndBenchShareTheDefaults() throws Exception {
        CompareCommand compare = new CompareCommand();
        new CommandLine(compare).parseArgs("--output", "x");
        assertSameComponents(TrainingConfig.builder().strategy("lora").build(), compare.training.toConfig("lora"));
        assertSameComponents(LoraConfig.DEFAULTS, compare.training.lora.toConfig());

        BenchCommand bench = new BenchCommand();
        new CommandLine(bench).parseArgs();
        TrainingConfig d = TrainingConfig.builder().build();
        assertEquals(d.frozenLayers(), bench.step.frozenLayers);
        assertEquals(d.perDeviceTrainBatchSize(), bench.step.batchSize);
        assertEquals(d.maxLength(), bench.step.maxLength);
        assertEquals(d.seed(), bench.step.seed);
        assertSameComponents(LoraConfig.DEFAULTS, bench.lora.toConfig());
    }

    @Test
    void theDefaultsFollowTheConfigsTheyAreReadFrom() throws Exception {
        // Every setting the command line has an option for differs from the builder's default, so an
        // option that kept a default of its own would show here.
        TrainingConfig other = TrainingConfig.builder().strategy("partial").frozenLayers(1).reinitTopLayers(1).maxLength(64).groupByLength(false)
                .epochs(2).batchSize(4).evalBatchSize(8).gradientAccumulationSteps(2).learningRate(1e-3).weightDecay(0.01)
                .maxGradNorm(0.5).layerwiseLrDecay(0.8).emaDecay(0.99).lrSchedulerType("cosine").warmupRatio(0.1).warmupSteps(5).labelSmoothing(0.1)
                .classWeights("balanced").evalStrategy("steps").evalSteps(3).loggingSteps(7).saveTotalLimit(3)
                .loadBestModelAtEnd(false).metricForBestModel("f1").earlyStopping(2, 0.01).tuneThreshold(true).seed(7).build();
        LoraConfig otherLora = new LoraConfig(4, 8, 0.1, List.of("q_lin", "v_lin"), List.of(0, 1),
                LoraConfig.DEFAULTS.modulesToSave(), "all", true, null);
        TrainCommand cmd = train(new TrainingDefaults(other, otherLora));
        assertSameComponents(other, cmd.training.toConfig(cmd.strategy));
        assertSameComponents(otherLora, cmd.training.lora.toConfig());
        // A flag whose default is true turns off with its --no- form, and on again with its plain form.
        TrainCommand flags = train(new TrainingDefaults(other, otherLora), "--no-tune-threshold", "--group-by-length",
                "--no-use-rslora");
        assertFalse(flags.training.tuneThreshold);
        assertTrue(flags.training.groupByLength);
        assertFalse(flags.training.lora.rslora);
    }

    @Test
    void theFlagsStillReadAsBefore() {
        TrainCommand cmd = train(null, "--no-group-by-length", "--no-load-best-model-at-end", "--tune-threshold", "--use-rslora");
        TrainingConfig c = cmd.training.toConfig(cmd.strategy);
        assertFalse(c.groupByLength());
        assertFalse(c.loadBestModelAtEnd());
        assertTrue(c.tuneThreshold());
        assertTrue(cmd.training.lora.toConfig().useRslora());
    }

    @Test
    void loggingStepsFollowTheRunUnlessSetAndASaveLimitOfZeroKeepsEveryCheckpoint() {
        TrainCommand unset = train(null);
        TrainingConfig c = unset.training.toConfig(unset.strategy);
        assertNull(c.loggingSteps(), "chosen from the run's length (TrainingConfig.loggingStepsFor)");
        assertEquals(Integer.valueOf(2), c.saveTotalLimit());
        TrainCommand set = train(null, "--logging-steps", "5", "--save-total-limit", "0");
        TrainingConfig s = set.training.toConfig(set.strategy);
        assertEquals(Long.valueOf(5), s.loggingSteps());
        assertNull(s.saveTotalLimit(), "0: no limit, as transformers reads save_total_limit <= 0");
    }

    @Test
    void noTrainingOptionStatesItsOwnDefault() {
        TrainingDefaults defaults = new TrainingDefaults();
        List<String> named = new ArrayList<>();
        for (Object command : List.of(new TrainCommand(), new CompareCommand(), new BenchCommand())) {
            for (OptionSpec o : new CommandLine(command).getCommandSpec().options()) {
                if (defaults.defaultValue(o) != null) {
                    named.add(o.longestName());
                    assertNull(o.defaultValue(), o.longestName() + " restates a default that TrainingDefaults gives");
                }
            }
        }
        assertTrue(named.containsAll(Arrays.asList("--batch-size", "--learning-rate", "--lora-r", "--seed", "--strategy")), named.toString());
    }

    @Test
    void helpShowsTheLibraryDefaults() {
        String train = CliRun.of("train", "--help").out();
        assertEquals("16", shownDefault(train, "--batch-size"));
        assertEquals("5e-5", shownDefault(train, "--learning-rate"));
        assertTrue(train.replaceAll("\\s+", " ").contains("Default: the architecture's query and value projections"), train);
        assertTrue(train.contains("default: true"), "--[no-]group-by-length and --[no-]load-best-model-at-end: " + train);
        String bench = CliRun.of("bench", "--help").out();
        assertEquals("16", shownDefault(bench, "--batch-size"));
        assertEquals("10", shownDefault(bench, "--untimed-steps"));
        assertFalse(bench.contains("--warmup-steps"), "bench's untimed steps are not learning-rate warmup: " + bench);
    }

    /** The "Default: X" shown under an option in help. */
    private static String shownDefault(String help, String option) {
        List<String> lines = help.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().startsWith(option + "=")) {
                for (int j = i; j < Math.min(i + 4, lines.size()); j++) {
                    int at = lines.get(j).indexOf("Default: ");
                    if (at >= 0) {
                        return lines.get(j).substring(at + "Default: ".length()).trim();
                    }
                }
            }
        }
        throw new AssertionError(option + " shows no default in\n" + help);
    }
}
