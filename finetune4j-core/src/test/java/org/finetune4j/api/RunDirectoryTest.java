package org.finetune4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run directory is one run's at a time, and its lock file is never taken for a run's or a user's file. */
class RunDirectoryTest {
    @TempDir
    Path tmp;

    @Test
    void aSecondLockInThisProcessFailsAtOnceNamingTheHolder() {
        Path dir = tmp.resolve("run");
        try (RunDirectory.Lock first = RunDirectory.lock(dir)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunDirectory.lock(dir));
            assertTrue(e.getMessage().contains("is in use by another training run (pid " + ProcessHandle.current().pid()),
                    e.getMessage());
            assertTrue(e.getMessage().contains("choose another --output"), e.getMessage());
        }
        try (RunDirectory.Lock again = RunDirectory.lock(dir)) {
            assertTrue(Files.isDirectory(dir), "released: the next run gets it");
        }
    }

    @Test
    void anotherProcessHoldingTheDirectoryIsNamedAndTheLockIsFreeOnceItEnds() throws Exception {
        Path dir = tmp.resolve("run");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process holder = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), HoldMain.class.getName(),
                dir.toString()).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("locked", out.readLine(), "the child took the lock");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunDirectory.lock(dir));
            assertTrue(e.getMessage().contains("(pid " + holder.pid() + " on "), e.getMessage());
            holder.getOutputStream().close(); // the child releases and exits
            assertTrue(holder.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, holder.exitValue());
        }
        try (RunDirectory.Lock mine = RunDirectory.lock(dir)) {
            assertTrue(Files.readString(dir.resolve(RunDirectory.LOCK_FILE)).contains("pid " + ProcessHandle.current().pid()));
        }
    }

    @Test
    void theLockFileIsNeitherARunFileNorAForeignOne() throws Exception {
        Path dir = tmp.resolve("run");
        try (RunDirectory.Lock lock = RunDirectory.lock(dir)) {
            assertFalse(RunDirectory.holdsRun(dir), "a directory with only the lock holds no run");
            assertTrue(RunDirectory.isEmpty(dir));
            RunDirectory.prepare(dir, false); // empty apart from the lock: no --overwrite needed
            Files.writeString(dir.resolve("metrics.jsonl"), "{}\n");
            assertTrue(RunDirectory.holdsRun(dir));
            assertFalse(RunDirectory.isEmpty(dir));
            RunDirectory.prepare(dir, true); // --overwrite deletes the run's files, not the lock
            assertTrue(Files.exists(dir.resolve(RunDirectory.LOCK_FILE)));
            assertFalse(Files.exists(dir.resolve("metrics.jsonl")));
        }
    }

    @Test
    void aFileWhereTheDirectoryShouldBeIsSaidPlainly() throws Exception {
        Path file = Files.writeString(tmp.resolve("run"), "not a directory");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunDirectory.lock(file));
        assertTrue(e.getMessage().contains("exists and is not a directory"), e.getMessage());
    }

    /** The other process: locks the directory given, says so, and holds it until its standard input closes. */
    public static final class HoldMain {
        public static void main(String[] args) throws Exception {
            try (RunDirectory.Lock lock = RunDirectory.lock(Path.of(args[0]))) {
                System.out.println("locked");
                System.out.flush();
                System.in.readAllBytes();
            }
        }
    }
}
