package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.finetune4j.server.ServerConfig;
import org.junit.jupiter.api.Test;
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

    @Test
    void helpListsTheOptionsAndNeverTheToken() {
        CliRun r = CliRun.of("serve", "--help");
        assertEquals(0, r.exitCode());
        for (String o : new String[] {"--host", "--port", "--token", "--max-body-bytes", "--max-texts", "--max-chars",
                "--batch-window-ms", "--max-batch-size", "--no-batching", "--adapter"}) {
            assertTrue(r.out().contains(o), o + " in\n" + r.out());
        }
        assertTrue(r.out().contains("Default: 127.0.0.1"), r.out());
        String env = System.getenv("FINETUNE4J_TOKEN");
        assertTrue(env == null || env.isEmpty() || !r.out().contains(env), "the token is not printed");
    }
}
