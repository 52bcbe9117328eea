package org.finetune4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Charts render on a machine without a display even when DISPLAY names one that does not exist (a
 * server with a stale variable, a container): without {@code java.awt.headless=true}, set by the
 * report code itself, AWT would try to connect to that X server and fail. Runs in a fresh JVM, since
 * AWT's headless mode is fixed once it starts.
 */
class HeadlessTest {
    @TempDir
    Path dir;

    @Test
    void chartsRenderInAFreshJvmWithABrokenDisplay() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                SampleReports.class.getName(), dir.toString()));
        pb.environment().put("DISPLAY", ":99"); // no X server listens there
        pb.redirectErrorStream(true);
        Path log = dir.resolve("jvm.log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM finished");
        String output = Files.readString(log, StandardCharsets.UTF_8);

        assertEquals(0, p.exitValue(), output);
        ReportWriterTest.assertPng(dir.resolve("run/loss.png"), Charts.WIDTH, Charts.HEIGHT);
        ReportWriterTest.assertPng(dir.resolve("compare/comparison_quality.png"), Charts.WIDTH, Charts.HEIGHT);
    }
}
