package org.finetune4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.finetune4j.api.TextClassifier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page at / in a real headless Chromium, driven by Playwright ({@code src/test/browser/page.mjs}):
 * the token field, typed texts' predictions and bars, the recent list and the metrics card. It needs
 * Node.js and the system Chromium, which {@code .ci/run} installs, and runs {@code npm ci} in
 * src/test/browser itself when playwright-core is missing. Without node or Chromium it fails under CI
 * and is reported as not run elsewhere, saying what to install; it never passes without having looked.
 */
class BrowserPageTest {
    private static final Path SCRIPT_DIR = Path.of("src/test/browser");
    private static final String FIRST = "where is my parcel?";
    private static final String TEXT = "I was charged twice for my subscription this month";

    @TempDir
    Path modelDir;

    @Test
    void thePageShowsThePredictionOfATypedText() throws Exception {
        String node = onPath("node");
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        if (node == null) {
            notRun("Node.js is not installed: the page test runs Playwright with node (apt-get install -y nodejs npm, or bash .ci/run)");
        }
        if (!Files.isExecutable(chromium)) {
            notRun(chromium + " is not there: install the system browser (apt-get install -y chromium, or bash .ci/run),"
                    + " or point CHROMIUM at a Chromium binary");
        }
        if (!Files.isDirectory(SCRIPT_DIR.resolve("node_modules/playwright-core"))) {
            npmCi();
        }

        TinyClassifier.write(modelDir);
        Path shot = Path.of("target/serve-page.png").toAbsolutePath();
        Files.deleteIfExists(shot);
        String token = "page-test-token";
        ServerConfig cfg = ServerConfig.defaults().withNetwork(ServerConfig.Network.defaults().withPort(0))
                .withAuth(new ServerConfig.Auth(token));
        try (TextClassifier classifier = TextClassifier.load(modelDir);
                ClassificationServer server = ClassificationServer.start(classifier, modelDir, null, cfg)) {
            List<String> cmd = List.of(node, "page.mjs", server.url() + "/", shot.toString(), token, FIRST, TEXT);
            Process p = new ProcessBuilder(cmd).directory(SCRIPT_DIR.toFile()).redirectErrorStream(true).start();
            boolean done = p.waitFor(180, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!done) {
                p.destroyForcibly();
                fail("the browser script did not finish in 180 s:\n" + out);
            }
            assertEquals(0, p.exitValue(), "node page.mjs failed:\n" + out);
            String[] lines = out.strip().split("\n");
            JsonNode shown = Http.JSON.readTree(lines[lines.length - 1]);

            assertTrue(shown.get("tokenFieldShown").asBoolean(), "the page asked for the token: " + shown);
            assertEquals(classifier.predict(TEXT).label(), shown.get("label").asText(), "the page shows the model's label");
            assertTrue(shown.get("score").asText().matches("\\(\\d+\\.\\d%\\)"), shown.toString());
            assertEquals(3, shown.get("bars").size(), "a bar per class: " + shown);
            for (int i = 0; i < 3; i++) {
                String bar = shown.get("bars").get(i).asText();
                assertTrue(TinyClassifier.LABELS.stream().anyMatch(bar::startsWith), "a label and its %: " + bar);
                assertTrue(bar.matches(".*\\d+\\.\\d%"), bar);
            }
            assertEquals(2, shown.get("recent").size(), "both predictions, newest first: " + shown);
            assertTrue(shown.get("recent").get(0).asText().startsWith(TEXT), shown.toString());
            assertTrue(shown.get("recent").get(1).asText().startsWith(FIRST), shown.toString());
            assertTrue(shown.get("facts").toString().contains("BertForSequenceClassification"), shown.toString());
            assertEquals(4, shown.get("metrics").size(), "the eval_results.json metrics: " + shown);
            assertTrue(shown.get("error").isNull(), shown.toString());
            assertEquals(0, shown.get("problems").size(), "no console errors, CSP violations or failed requests: " + shown);
            assertTrue(Files.size(shot) > 10_000, "a screenshot was taken: " + shot);
        }
    }

    /**
     * A machine without the browser tools: CI must have them (.ci/run installs them), so there the
     * test fails; elsewhere it is reported as not run, with what to install, and never as passed.
     */
    private static void notRun(String why) {
        if (System.getenv("CI") != null) {
            fail(why);
        }
        Assumptions.abort("not run: " + why);
    }

    /** Installs playwright-core from the committed package-lock.json (it downloads no browser). */
    private static void npmCi() throws IOException, InterruptedException {
        String npm = onPath("npm");
        if (npm == null) {
            notRun("playwright-core is not installed and npm is missing: apt-get install -y npm, then"
                    + " npm ci --prefix finetune4j-server/src/test/browser (bash .ci/run does both)");
        }
        Process p = new ProcessBuilder(npm, "ci", "--no-audit", "--no-fund").directory(SCRIPT_DIR.toFile())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail("npm ci in " + SCRIPT_DIR + " failed (playwright-core is needed for the page test):\n" + out);
        }
    }

    private static String onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path f = Path.of(dir, exe);
            if (Files.isExecutable(f)) {
                return f.toString();
            }
        }
        return null;
    }
}
