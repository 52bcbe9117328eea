package org.finetune4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.testing.SharedData;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page at / in a real headless Chromium, driven by Playwright ({@code src/test/browser/page.mjs}):
 * the token prompt (a wrong token, then the right one), typed texts' predictions and bars, the recent
 * list and the metrics card. It needs Node.js and the system Chromium, which {@code .ci/run} installs,
 * and runs {@code npm ci} in src/test/browser itself when playwright-core is missing. Without node or
 * Chromium it fails under CI and elsewhere is reported as not run, on the console as well as in the
 * report, saying what to install; it never passes without having looked.
 */
class BrowserPageTest {
    private static final Path SCRIPT_DIR = Path.of("src/test/browser");
    private static final String FIRST = "where is my parcel?";
    private static final String TEXT = "I was charged twice for my subscription this month";
    /** The reasons already printed, so that the console says each once for the whole class. */
    private static final Set<String> NOT_RUN_SAID = ConcurrentHashMap.newKeySet();
    private static final String PROMPT = "This server needs an access token. Paste the token you were given.";

    @TempDir
    Path modelDir;

    @Test
    void withATokenThePageAsksForItThenClassifies() throws Exception {
        String token = "page-test-token";
        Path out = Path.of("target/serve-page-token").toAbsolutePath();
        JsonNode shown = runPage(new ServerConfig.Auth(token), token, out);

        JsonNode prompt = shown.get("tokenFlow").get("prompt");
        assertEquals(PROMPT, prompt.get("text").asText(), shown.toString());
        assertEquals("token", prompt.get("focused").asText(), "the cursor is in the field: " + prompt);
        assertEquals("password", prompt.get("inputType").asText(), "the token is not shown on screen");
        assertFalse(prompt.get("modelCardShown").asBoolean(), "no empty model card before the token: " + prompt);
        assertFalse(prompt.get("classifierShown").asBoolean(), prompt.toString());
        assertFalse(prompt.get("errorShown").asBoolean(), "asking is not an error: " + prompt);
        String page = prompt.get("bodyText").asText();
        assertFalse(page.contains("Authorization") || page.toLowerCase(Locale.ROOT).contains("header"),
                "plain words, no HTTP headers: " + page);

        JsonNode wrong = shown.get("tokenFlow").get("wrong");
        assertEquals("That token was not accepted. Check that you copied all of it, then paste it again.",
                wrong.get("message").asText(), wrong.toString());
        assertTrue(wrong.get("fieldShown").asBoolean(), "the field again: " + wrong);
        assertFalse(wrong.get("modelCardShown").asBoolean(), wrong.toString());
        assertTrue(wrong.get("storage").get("session").isNull(), "a rejected token is not kept: " + wrong);
        assertTrue(wrong.get("notATokenMessage").asText().startsWith("That is not a token: it has spaces"), wrong.toString());

        JsonNode accepted = shown.get("tokenFlow").get("accepted");
        assertFalse(accepted.get("tokenCardShown").asBoolean(), accepted.toString());
        assertTrue(accepted.get("modelCardShown").asBoolean(), accepted.toString());
        assertEquals(token, accepted.get("storage").get("session").asText(), "kept in sessionStorage: " + accepted);
        assertEquals(0, accepted.get("storage").get("localItems").asInt(), "nothing in localStorage: " + accepted);
        assertFalse(accepted.get("storage").get("url").asText().contains(token), "not in the URL: " + accepted);

        JsonNode reloaded = shown.get("tokenFlow").get("reloaded");
        assertFalse(reloaded.get("tokenCardShown").asBoolean(), "a reload in the tab keeps the token: " + reloaded);
        assertTrue(reloaded.get("forgetShown").asBoolean(), reloaded.toString());
        // The 401s: the first /v1/model (no token) and the wrong token's; none once the token is accepted.
        assertEquals("[\"/v1/model\",\"/v1/model\"]", shown.get("tokenFlow").get("unauthorized").toString());
        assertEquals(0, shown.get("unauthorizedAfterToken").asInt(), shown.toString());
        JsonNode forgotten = shown.get("tokenFlow").get("forgotten");
        assertFalse(forgotten.get("modelCardShown").asBoolean() || forgotten.get("classifierShown").asBoolean(), forgotten.toString());
        assertTrue(forgotten.get("storage").get("session").isNull(), "\"Forget token\" forgets it: " + forgotten);
        assertTrue(Files.size(out.resolve("token-prompt.png")) > 5_000, "a screenshot of the prompt was taken");
        assertTrue(Files.size(out.resolve("token-wrong.png")) > 5_000, "a screenshot of the message was taken");
    }

    @Test
    void withoutATokenThePageClassifiesAtOnce() throws Exception {
        JsonNode shown = runPage(ServerConfig.Auth.NONE, "-", Path.of("target/serve-page").toAbsolutePath());
        assertFalse(shown.get("tokenCardShown").asBoolean(), "no prompt when the server needs no token: " + shown);
    }

    /**
     * Serves the tiny classifier with {@code auth}, runs page.mjs against it (screenshots to {@code out}),
     * checks what every run must show (the prediction, bars, recent list, model card, no errors) and
     * returns the script's report.
     */
    private JsonNode runPage(ServerConfig.Auth auth, String tokenArg, Path out) throws Exception {
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
        Files.createDirectories(out);
        for (String png : new String[] {"page.png", "token-prompt.png", "token-wrong.png"}) {
            Files.deleteIfExists(out.resolve(png));
        }
        ServerConfig cfg = ServerConfig.defaults().withNetwork(ServerConfig.Network.defaults().withPort(0)).withAuth(auth);
        try (TextClassifier classifier = TextClassifier.load(modelDir);
                ClassificationServer server = ClassificationServer.start(classifier, modelDir, null, cfg)) {
            List<String> cmd = List.of(node, "page.mjs", server.url() + "/", out.toString(), tokenArg, FIRST, TEXT);
            Process p = new ProcessBuilder(cmd).directory(SCRIPT_DIR.toFile()).redirectErrorStream(true).start();
            boolean done = p.waitFor(180, TimeUnit.SECONDS);
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!done) {
                p.destroyForcibly();
                fail("the browser script did not finish in 180 s:\n" + output);
            }
            assertEquals(0, p.exitValue(), "node page.mjs failed:\n" + output);
            String[] lines = output.strip().split("\n");
            JsonNode shown = Http.JSON.readTree(lines[lines.length - 1]);

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
            assertTrue(Files.size(out.resolve("page.png")) > 10_000, "a screenshot was taken: " + out);
            return shown;
        }
    }

    /**
     * A machine without the browser tools: CI must have them (.ci/run installs them), so there the
     * test fails; elsewhere it is reported as not run, with what to install, and never as passed.
     */
    private static void notRun(String why) {
        if (SharedData.inCi(System.getenv("CI"))) {
            fail(why + " (CI is set, so a missing browser fails the build instead of skipping)");
        }
        // Surefire's console shows only "Skipped: N" for an aborted test; the reason goes to the console too, once.
        if (NOT_RUN_SAID.add(why)) {
            System.err.println("[NOT RUN] BrowserPageTest: " + why);
        }
        Assumptions.abort("NOT RUN: " + why);
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
