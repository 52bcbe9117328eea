package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.server.ServerConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The serve command's options and errors; the server itself is tested in finetune4j-server. */
class ServeCommandTest {
    private static ServerConfig parse(String... args) {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.config();
    }

    @Test
    void defaultsAreTheSafeServerConfig() {
        ServerConfig c = parse("--model", "m");
        ServerConfig d = ServerConfig.defaults();
        assertEquals(d.network().host(), c.network().host());
        assertEquals(d.network().port(), c.network().port());
        assertEquals(d.limits(), c.limits());
        assertEquals(d.batching(), c.batching());
        // The token comes from FINETUNE4J_TOKEN when set, so only check it matches the environment.
        String env = System.getenv("FINETUNE4J_TOKEN");
        assertEquals(env == null || env.isEmpty() ? null : env, c.auth().token());
    }

    @Test
    void optionsReachTheConfig() {
        ServerConfig c = parse("--model", "m", "--host", "0.0.0.0", "--port", "9000", "--token", "t0k",
                "--max-body-bytes", "5000", "--max-texts", "8", "--max-chars", "300",
                "--batch-window-ms", "2", "--max-batch-size", "16", "--no-batching");
        assertEquals("0.0.0.0", c.network().host());
        assertEquals(9000, c.network().port());
        assertEquals("t0k", c.auth().token());
        assertEquals(new ServerConfig.Limits(5000, 8, 300), c.limits());
        assertFalse(c.batching().enabled());
        assertEquals(2, c.batching().window().toMillis());
        assertEquals(16, c.batching().maxBatchSize());
    }

    @Test
    void aBadOptionIsAUserErrorBeforeTheModelLoads() {
        CliRun r = CliRun.of("serve", "--model", "/no/such/model", "--port", "70000");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().startsWith("error: --port 70000 is not a TCP port"), r.err());
    }

    @Test
    void aMissingModelIsAUserError() {
        CliRun r = CliRun.of("serve", "--model", "/no/such/model", "--port", "0");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().startsWith("error: model \"/no/such/model\""), r.err());
    }

    private static ServerConfig.Auth auth(String env, ByteArrayOutputStream warnings, String... args) {
        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs(args);
        return cmd.auth(env, new PrintStream(warnings, true, StandardCharsets.UTF_8));
    }

    private static Path tokenFile(Path dir, String content, String perms) throws IOException {
        Path f = dir.resolve("token");
        Files.writeString(f, content, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
        return f;
    }

    @Test
    void theTokenComesFromTheOptionsBeforeTheEnvironment() {
        ByteArrayOutputStream w = new ByteArrayOutputStream();
        assertEquals("from-env", auth("from-env", w, "--model", "m").token());
        assertEquals("from-option", auth("from-env", w, "--model", "m", "--token", "from-option").token());
        assertNull(auth("", w, "--model", "m").token(), "an empty FINETUNE4J_TOKEN is no token");
        assertNull(auth(null, w, "--model", "m").token());
    }

    @Test
    void aTokenFileGivesItsFirstLineTrimmed(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream w = new ByteArrayOutputStream();
        Path f = tokenFile(dir, "  s3cret-Token_1  \r\nsecond line is ignored\n", "rw-------");
        assertEquals("s3cret-Token_1", auth(null, w, "--model", "m", "--token-file", f.toString()).token());
        assertEquals("s3cret-Token_1", auth("from-env", w, "--model", "m", "--token-file", f.toString()).token(),
                "the option wins over the environment");
        assertEquals("", w.toString(StandardCharsets.UTF_8), "no warning for a file only its owner reads");

        Files.writeString(f, "\uFEFFbom-token\n", StandardCharsets.UTF_8); // Notepad's UTF-8
        assertEquals("bom-token", auth(null, w, "--model", "m", "--token-file", f.toString()).token());
    }

    @Test
    void aTokenFileOthersCanReadIsUsedWithAWarning(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream w = new ByteArrayOutputStream();
        Path f = tokenFile(dir, "t0ken\n", "rw-r--r--");
        assertEquals("t0ken", auth(null, w, "--model", "m", "--token-file", f.toString()).token());
        String warning = w.toString(StandardCharsets.UTF_8);
        assertTrue(warning.startsWith("warning: --token-file " + f + " is readable by group and others (permissions rw-r--r--)")
                && warning.contains("chmod 600 " + f), warning);
        assertFalse(warning.contains("t0ken"), "the warning never shows the token");

        w.reset();
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        auth(null, w, "--model", "m", "--token-file", f.toString());
        assertTrue(w.toString(StandardCharsets.UTF_8).contains("is readable by its group (permissions rw-r-----)"), w.toString());

        // The whole command: the warning is printed, and serve goes on (here to the missing model).
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw----r--"));
        CliRun r = CliRun.of("serve", "--model", "/no/such/model", "--port", "0", "--token-file", f.toString());
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().contains("warning: --token-file " + f + " is readable by others"), r.err());
        assertTrue(r.err().contains("error: model \"/no/such/model\""), "it went on to load the model: " + r.err());
    }

    @Test
    void aMissingEmptyOrBadTokenFileIsAUserError(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope");
        assertServeRefuses(List.of("--token-file", missing.toString()),
                "error: --token-file " + missing + " does not exist; write the token on its first line (e.g. umask 077;");
        assertServeRefuses(List.of("--token-file", dir.toString()),
                "error: --token-file " + dir + " is a directory: give the path of the file that holds the token");
        Path f = tokenFile(dir, "", "rw-------");
        assertServeRefuses(List.of("--token-file", f.toString()),
                "error: --token-file " + f + " is empty; write the token on its first line");
        Files.writeString(f, "   \nt0ken\n");
        assertServeRefuses(List.of("--token-file", f.toString()),
                "error: --token-file " + f + " has an empty first line; write the token on its first line");
        Files.write(f, new byte[] {(byte) 0xff, (byte) 0xfe, 't', '\n'});
        assertServeRefuses(List.of("--token-file", f.toString()), "error: --token-file " + f + " is not UTF-8 text");
        Files.writeString(f, "two words\n");
        assertServeRefuses(List.of("--token-file", f.toString()),
                "error: --token-file " + f + ": the token must be non-empty and made of visible ASCII characters");
        Files.writeString(f, "t0ken\n");
        assertServeRefuses(List.of("--token-file", f.toString(), "--token", "t0ken"),
                "error: --token and --token-file both give the token: keep only --token-file");
    }

    @Test
    void aTokenFileNobodyMayReadIsAUserError(@TempDir Path dir) throws IOException {
        Path f = tokenFile(dir, "t0ken\n", "---------");
        // root reads any file whatever its permissions; then there is nothing to refuse.
        if (Files.isReadable(f)) {
            System.err.println("[NOT RUN] ServeCommandTest.aTokenFileNobodyMayReadIsAUserError: running as root, who can"
                    + " read a file with permissions ---------; run the tests as another user to cover it");
            Assumptions.abort("NOT RUN: running as root, who can read a file with permissions ---------");
        }
        assertServeRefuses(List.of("--token-file", f.toString()),
                "error: --token-file " + f + " cannot be read: permission denied; make it readable by the user who runs serve");
    }

    /** serve with {@code options} exits 2 before loading the model, its error starting with {@code message}. */
    private static void assertServeRefuses(List<String> options, String message) {
        List<String> args = new ArrayList<>(List.of("serve", "--model", "/no/such/model", "--port", "0"));
        args.addAll(options);
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().startsWith(message), "expected \"" + message + "...\", got:\n" + r.err());
        assertFalse(r.err().contains("t0ken"), "the token is never printed: " + r.err());
    }

    @Test
    void helpListsTheOptionsAndNeverTheToken() {
        CliRun r = CliRun.of("serve", "--help");
        assertEquals(0, r.exitCode());
        for (String o : new String[] {"--host", "--port", "--token", "--token-file", "--max-body-bytes", "--max-texts", "--max-chars",
                "--batch-window-ms", "--max-batch-size", "--no-batching", "--adapter"}) {
            assertTrue(r.out().contains(o), o + " in\n" + r.out());
        }
        assertTrue(r.out().contains("Default: 127.0.0.1"), r.out());
        String env = System.getenv("FINETUNE4J_TOKEN");
        assertTrue(env == null || env.isEmpty() || !r.out().contains(env), "the token is not printed");
    }
}
