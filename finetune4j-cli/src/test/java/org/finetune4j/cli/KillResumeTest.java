package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at random moments of a training run, then {@code --resume-from-checkpoint latest} (or, when the
 * kill came before the first checkpoint, the same command with {@code --overwrite}): the finished model
 * must be bit-identical to an uninterrupted run's. Half of the kills land at a random training step,
 * half while a checkpoint is being written (its {@code .checkpoint-N.tmp} directory exists), where a
 * half-written checkpoint must be neither resumed from nor left behind.
 *
 * <p>Each train runs in its own JVM, as a user's would. CI runs {@value #CI_KILLS} kills;
 * {@code scripts/chaos-resume.sh} runs 20 ({@code -Dfinetune4j.chaos.kills=20}) and prints a line per
 * kill (RESULTS.md records that run).
 */
class KillResumeTest {
    static final int CI_KILLS = 4;
    /** 24 training rows, batch 4, 6 epochs: 36 steps, a checkpoint and an evaluation every 3. */
    static final int STEPS = 36;

    @TempDir
    static Path dir;
    static Path base;
    static Path data;
    static byte[] reference;
    static String referenceResults;

    @BeforeAll
    static void anUninterruptedRun() throws Exception {
        base = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 5, dir.resolve("base"));
        data = TinyReviews.write(dir.resolve("train.csv"));
        Path out = dir.resolve("reference");
        Process p = train(out, false);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "the reference run finished");
        assertEquals(0, p.exitValue(), log(out));
        reference = Files.readAllBytes(out.resolve("model.safetensors"));
        referenceResults = evalLoss(out);
    }

    static Process train(Path out, boolean resume) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dai.djl.offline=true", Main.class.getName(), "train",
                "--model", base.toString(), "--train", data.toString(), "--split", "0.5,0.25,0.25", "--epochs", "6",
                "--batch-size", "4", "--learning-rate", "2e-3", "--max-length", "16", "--seed", "3", "--logging-steps",
                "1", "--eval-strategy", "steps", "--eval-steps", "3", "--save-total-limit", "3", "--output",
                out.toString(), "--quiet"));
        cmd.add(resume ? "--resume-from-checkpoint" : "--overwrite");
        if (resume) {
            cmd.add("latest");
        }
        Files.createDirectories(out.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(out.resolveSibling(out.getFileName() + ".log").toFile()));
        return pb.start();
    }

    static String log(Path out) throws IOException {
        Path f = out.resolveSibling(out.getFileName() + ".log");
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "(no log)";
    }

    static String evalLoss(Path out) throws IOException {
        String json = Files.readString(out.resolve("eval_results.json"), StandardCharsets.UTF_8);
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get("eval_loss").toString();
    }

    /** How many training steps metrics.jsonl records (one line per step with --logging-steps 1). */
    static long stepsLogged(Path out) {
        try (Stream<String> lines = Files.lines(out.resolve("metrics.jsonl"))) {
            return lines.filter(l -> l.contains("\"loss\"") && !l.contains("eval_loss")).count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    static boolean writingCheckpoint(Path out, int atLeast) {
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".checkpoint-") && n.endsWith(".tmp"))
                    .anyMatch(n -> Integer.parseInt(n.substring(".checkpoint-".length(), n.length() - 4)) >= atLeast);
        } catch (IOException | java.io.UncheckedIOException | NumberFormatException e) {
            return false;
        }
    }

    static boolean hasCheckpoint(Path out) throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.anyMatch(p -> p.getFileName().toString().matches("checkpoint-\\d+"));
        }
    }

    /**
     * One kill: starts the run (fresh, or resumed when a checkpoint exists), waits for the moment, kills
     * it with SIGKILL, then resumes to the end. Returns a line describing what happened.
     */
    static String killThenResume(Path out, Random rnd, boolean duringCheckpointWrite) throws Exception {
        int target = duringCheckpointWrite ? 3 * (1 + rnd.nextInt(STEPS / 3 - 1)) : 1 + rnd.nextInt(STEPS - 1);
        Process p = train(out, false);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        boolean moment = false;
        while (p.isAlive() && System.nanoTime() < deadline) {
            moment = duringCheckpointWrite ? writingCheckpoint(out, target) : stepsLogged(out) >= target;
            if (moment) {
                break;
            }
            Thread.sleep(0, 200_000);
        }
        if (!moment || !p.isAlive()) {
            p.destroyForcibly().waitFor();
            return null; // the run ended before the moment came: not a kill
        }
        p.destroyForcibly(); // SIGKILL on Linux
        p.waitFor();
        long stepsAtKill = stepsLogged(out);
        boolean resume = hasCheckpoint(out);
        Process rest = train(out, resume);
        assertTrue(rest.waitFor(300, TimeUnit.SECONDS), "the resumed run finished");
        assertEquals(0, rest.exitValue(), log(out));
        byte[] model = Files.readAllBytes(out.resolve("model.safetensors"));
        boolean same = java.util.Arrays.equals(reference, model);
        String line = String.format(Locale.ROOT, "%s: killed %s (step %d logged), then %s: model %s, eval_loss %s",
                out.getFileName(), duringCheckpointWrite ? "writing checkpoint-" + target + "+" : "at step " + target,
                stepsAtKill, resume ? "resumed from the latest checkpoint" : "restarted (no checkpoint yet)",
                same ? "bit-identical" : "DIFFERENT", evalLoss(out));
        System.out.println(line);
        assertArrayEquals(reference, model, line + "\n" + log(out));
        assertEquals(referenceResults, evalLoss(out), line);
        try (Stream<Path> s = Files.list(out)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no half-written checkpoint is left");
        }
        return line;
    }

    @Test
    void killedRunsResumeToTheSameModelBitForBit() throws Exception {
        int kills = Integer.getInteger("finetune4j.chaos.kills", CI_KILLS);
        Random rnd = new Random(Long.getLong("finetune4j.chaos.seed", 20261205L));
        List<String> lines = new ArrayList<>();
        for (int i = 0; lines.size() < kills && i < 3 * kills; i++) {
            String line = killThenResume(dir.resolve(String.format(Locale.ROOT, "kill-%02d", i + 1)), rnd,
                    lines.size() % 2 == 1);
            if (line != null) {
                lines.add(line);
            }
        }
        assertEquals(kills, lines.size(), "every planned kill happened: " + lines);
        System.out.println(kills + " of " + kills + " killed runs resumed to the uninterrupted run's model, bit for bit");
    }
}
