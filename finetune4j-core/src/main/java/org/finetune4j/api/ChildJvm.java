package org.finetune4j.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.finetune4j.io.ProcessMemory;

/**
 * Runs a main class in a fresh JVM: the same java binary, classpath, system properties and heap
 * settings as this one, and the same environment (so the launcher's malloc tuning applies). Measuring
 * each strategy or benchmark in its own process keeps memory figures clean: nothing a previous
 * measurement allocated, cached or fragmented counts against the next one.
 *
 * <p>While the child runs, its peak resident set (VmHWM in {@code /proc/<pid>/status}) is read every
 * {@link #POLL_MILLIS} ms. VmHWM only grows, so the last reading misses at most the final interval; a
 * child that reports its own peak ({@link ProcessMemory}) at the end gives the exact figure.
 */
public final class ChildJvm {
    /** How often the child's peak memory is read while it runs. */
    static final long POLL_MILLIS = 100;
    /** Lines of the child's stderr kept in a failure message. */
    public static final int STDERR_TAIL_LINES = 20;

    private ChildJvm() {
    }

    /**
     * What the child did.
     *
     * @param pid the child's process id
     * @param exitCode its exit status (0: success)
     * @param wallSeconds from start to exit, JVM start-up included
     * @param peakRssBytes the highest VmHWM read while it ran, or -1 where /proc is not available
     * @param stdout the file holding everything it printed on stdout
     * @param stderr the file holding everything it printed on stderr
     */
    public record Result(long pid, int exitCode, double wallSeconds, long peakRssBytes, Path stdout, Path stderr) {
        public boolean succeeded() {
            return exitCode == 0;
        }

        /** The last {@code lines} lines of stderr (what a failure report shows). */
        public String stderrTail(int lines) {
            return tail(stderr, lines);
        }
    }

    /** The command line that starts {@code mainClass} in a JVM like this one. */
    public static List<String> command(String mainClass, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // Properties and memory settings, not agents or debugger flags (a second debugger on the same port fails).
            if (a.startsWith("-D") || a.startsWith("-Xmx") || a.startsWith("-Xms") || a.startsWith("-Xss")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /**
     * Runs {@code mainClass args} to completion.
     *
     * @param logs directory for the child's {@code <name>.stdout.log} and {@code <name>.stderr.log}
     */
    public static Result run(String mainClass, List<String> args, Path logs, String name) {
        Path out = logs.resolve(name + ".stdout.log");
        Path err = logs.resolve(name + ".stderr.log");
        try {
            Files.createDirectories(logs);
            ProcessBuilder pb = new ProcessBuilder(command(mainClass, args))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            long t0 = System.nanoTime();
            Process p = pb.start();
            long pid = p.pid();
            Path status = Path.of("/proc", Long.toString(pid), "status");
            long peak = -1;
            while (!p.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                peak = Math.max(peak, ProcessMemory.read(status, "VmHWM:"));
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            return new Result(pid, p.exitValue(), wall, peak, out, err);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start a child JVM for " + name + " (" + javaBinary() + "): "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + name, e);
        }
    }

    /** The java binary running this JVM. */
    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }
}
