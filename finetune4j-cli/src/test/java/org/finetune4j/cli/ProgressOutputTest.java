package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.train.TrainerListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Progress written to a file or pipe is whole lines, not a bar redrawn with carriage returns. */
class ProgressOutputTest {
    @TempDir
    Path dir;

    /** Runs {@code body} with System.err captured (ConsoleListener writes to the stream it finds when built). */
    private static String stderrOf(Runnable body) {
        PrintStream old = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            body.run();
        } finally {
            System.setErr(old);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withoutATerminalTrainingPrintsOneLineAtEachTenthOfTheSteps() {
        String err = stderrOf(() -> {
            ConsoleListener l = new ConsoleListener(false, "eval", false);
            l.onTrainBegin(54, 1, -1);
            for (long step = 1; step <= 54; step++) {
                if (step % 2 == 0) {
                    l.onLog(Map.of("loss", 1.0 / step, "step", step));
                }
                l.onStep(step, 54, 0.5, new TrainerListener.Control());
                if (step == 18) {
                    l.onMessage("evaluation at step 18: loss 0.83");
                }
            }
            l.onTrainEnd();
        });
        assertFalse(err.contains("\r"), err);
        List<String> progress = err.lines().filter(s -> s.startsWith("train ")).toList();
        assertEquals(10, progress.size(), err);
        assertTrue(progress.get(0).startsWith("train  11% 6/54 steps, 0:00:00 elapsed, "), progress.get(0));
        assertTrue(progress.get(9).startsWith("train 100% 54/54 steps, ") && progress.get(9).endsWith("loss 0.0185"), progress.get(9));
        assertTrue(err.contains("\nevaluation at step 18: loss 0.83\n"), err);
    }

    @Test
    void withoutATerminalAPredictionPassPrintsOneLineAtItsEnd() {
        String err = stderrOf(() -> {
            ConsoleListener l = new ConsoleListener(false, "predict", false);
            for (int done = 1; done <= 3; done++) {
                l.onEvaluationProgress(done, 3);
            }
        });
        assertFalse(err.contains("\r"), err);
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("predict 100% 3/3 examples, 0:00:00 elapsed"), err);
    }

    @Test
    void aRedirectedTrainRunWritesPlainLines() throws Exception {
        // surefire's forked JVM writes stderr to a pipe, as CI and nohup do
        assertFalse(ConsoleListener.stderrIsTerminal(), "this test needs stderr not to be a terminal");
        Path base = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 7, dir.resolve("base"));
        Path data = TinyReviews.write(dir.resolve("reviews.csv"));
        CliRun r = CliRun.of("train", "--model", base.toString(), "--train", data.toString(), "--max-length", "16",
                "--batch-size", "8", "--epochs", "2", "--output", dir.resolve("run").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertFalse(r.err().contains("\r"), r.err());
        assertTrue(r.err().lines().anyMatch(s -> s.matches("train 100% \\d+/\\d+ steps, .* elapsed, loss \\d\\.\\d{4}")), r.err());
    }
}
