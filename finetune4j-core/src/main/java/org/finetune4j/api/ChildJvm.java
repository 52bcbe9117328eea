package org.finetune4j.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        return command(mainClass, Map.of(), args);
    }

    /**
     * The command line that starts {@code mainClass} in a JVM like this one, with {@code properties} set as
     * {@code -Dname=value}: each replaces this JVM's own value of that property (a tuning study gives each of
     * its parallel trials its own {@code ai.djl.pytorch.num_threads}). The child also gets this JVM's pid as
     * {@value ParentWatch#PARENT_PID}, so that a main that calls {@link ParentWatch#start} ends with its parent.
     */
    public static List<String> command(String mainClass, Map<String, String> properties, List<String> args) {
        properties = new java.util.LinkedHashMap<>(properties);
        properties.put(ParentWatch.PARENT_PID, Long.toString(ProcessHandle.current().pid()));
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            // Properties and memory settings, not agents or debugger flags (a second debugger on the same port fails).
            boolean replaced = a.startsWith("-D") && properties.containsKey(a.substring(2).split("=", 2)[0]);
            if (!replaced && (a.startsWith("-D") || a.startsWith("-Xmx") || a.startsWith("-Xms") || a.startsWith("-Xss"))) {
                cmd.add(a);
            }
        }
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
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
        Running child = start(mainClass, Map.of(), args, logs, name);
        try {
            while (!child.waitFor(POLL_MILLIS)) {
                child.pollMemory();
            }
            return child.result();
        } catch (InterruptedException e) {
            child.stop();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + name, e);
        }
    }

    /**
     * Starts {@code mainClass args} and returns at once; the caller polls it ({@link Running#pollMemory},
     * {@link Running#isAlive}), may {@link Running#stop} it, and reads its {@link Running#result} once it has
     * exited. {@link #run} is this with a loop that waits.
     *
     * @param properties system properties for the child, replacing this JVM's values of the same names
     */
    public static Running start(String mainClass, Map<String, String> properties, List<String> args, Path logs, String name) {
        Path out = logs.resolve(name + ".stdout.log");
        Path err = logs.resolve(name + ".stderr.log");
        try {
            Files.createDirectories(logs);
            ProcessBuilder pb = new ProcessBuilder(command(mainClass, properties, args))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            long t0 = System.nanoTime();
            return new Running(pb.start(), t0, out, err);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start a child JVM for " + name + " (" + javaBinary() + "): "
                    + e.getMessage(), e);
        }
    }

    /** A started child. Not thread-safe: one caller polls it. */
    public static final class Running {
        /** How long {@link #stop} waits for the child to end after asking it to, before killing it. */
        static final long STOP_GRACE_MILLIS = 5_000;

        private final Process process;
        private final long startNanos;
        private final Path stdout;
        private final Path stderr;
        private final Path status;
        private long peak = -1;
        private double wallSeconds = -1;

        private Running(Process process, long startNanos, Path stdout, Path stderr) {
            this.process = process;
            this.startNanos = startNanos;
            this.stdout = stdout;
            this.stderr = stderr;
            this.status = Path.of("/proc", Long.toString(process.pid()), "status");
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** Reads the child's peak resident set now (VmHWM); call it regularly while the child runs. */
        public void pollMemory() {
            peak = Math.max(peak, ProcessMemory.read(status, "VmHWM:"));
        }

        /** Waits up to {@code millis} for the child to exit; true when it has. */
        public boolean waitFor(long millis) throws InterruptedException {
            boolean exited = process.waitFor(millis, TimeUnit.MILLISECONDS);
            if (exited && wallSeconds < 0) {
                wallSeconds = (System.nanoTime() - startNanos) / 1e9;
            }
            return exited;
        }

        /**
         * Ends the child: asks it to stop (SIGTERM), and kills it (SIGKILL) if it is still there after
         * {@link #STOP_GRACE_MILLIS}. Returns once it has exited.
         */
        public void stop() {
            process.destroy();
            try {
                if (!waitFor(STOP_GRACE_MILLIS)) {
                    process.destroyForcibly();
                    process.waitFor();
                    waitFor(0);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }

        /** What the child did; only once it has exited. */
        public Result result() {
            if (process.isAlive() || wallSeconds < 0) {
                try {
                    if (!waitFor(0)) {
                        throw new IllegalStateException("child " + pid() + " is still running; wait for it or stop it first");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while reading child " + pid(), e);
                }
            }
            return new Result(pid(), process.exitValue(), wallSeconds, peak, stdout, stderr);
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
