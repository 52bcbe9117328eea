package org.finetune4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.report.ResultsTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes RESULTS.md from train run directories and a bench.json (scripts/results.sh runs them first). */
@Command(name = "results", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Write RESULTS.md from the run directories of `train` and the bench.json of `bench`.",
                "One row per run (validation and test metrics, samples/s, peak RSS), the bench's training and inference"
                        + " tables, the commit, machine and date, and the commands that produced them."
                        + " scripts/results.sh runs the whole set and then this command."})
final class ResultsCommand implements Callable<Integer> {
    @Option(names = "--runs", arity = "1..*", description = "Run directories written by `train --output`, in table order.")
    List<Path> runs;

    @Option(names = "--bench", description = "The bench.json written by `bench --output`.")
    Path bench;

    @Option(names = "--commands", description = "A file of the commands that produced the runs and the bench, one a line.")
    Path commands;

    @Option(names = "--commit", description = "The commit measured (default: `git rev-parse --short HEAD` in this directory).")
    String commit;

    @Option(names = "--date", description = "The date measured (default: today).")
    String date;

    @Option(names = "--output", required = true, description = "The page to write, e.g. RESULTS.md.")
    Path output;

    @Option(names = "--overwrite", description = "Replace --output if it exists.")
    boolean overwrite;

    @Override
    public Integer call() {
        List<Path> dirs = runs == null ? List.of() : runs;
        if (dirs.isEmpty() && bench == null) {
            throw new UserError("give --runs DIR... and/or --bench FILE: there is nothing to tabulate");
        }
        if (Files.exists(output) && !overwrite) {
            throw new UserError(output + " already exists; pass --overwrite to regenerate it, or choose another --output");
        }
        List<ResultsTable.Run> rows = dirs.stream().map(ResultsTable::readRun).toList();
        ResultsTable.Bench b = bench == null ? null : ResultsTable.readBench(bench);
        List<String> lines = commands == null ? List.of() : readCommands(commands);
        ResultsTable.Page page = new ResultsTable.Page(commit != null ? commit : gitCommit(),
                date != null ? date : LocalDate.now().toString(), ResultsTable.machine(Path.of("/proc/cpuinfo")), rows, b, lines);
        AtomicFiles.writeString(output, page.toMarkdown() + keptSections(output));
        System.err.println(output + " written: " + rows.size() + (rows.size() == 1 ? " run" : " runs")
                + (b == null ? "" : ", bench " + bench));
        return 0;
    }

    /**
     * The line after which RESULTS.md holds sections measured by other scripts (the kill/resume chaos run,
     * the base-size bench), each naming its own commit and command: regenerating the page keeps them.
     */
    static final String KEPT_MARKER = "<!-- Sections below are measured by their own scripts; `results` keeps them. -->";

    /** The part of an existing page from {@link #KEPT_MARKER} on ("" when there is none). */
    static String keptSections(Path page) {
        if (!Files.isRegularFile(page)) {
            return "";
        }
        try {
            String old = Files.readString(page, StandardCharsets.UTF_8);
            int at = old.indexOf(KEPT_MARKER);
            return at < 0 ? "" : "\n" + old.substring(at);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + page + ": " + e.getMessage(), e);
        }
    }

    private static List<String> readCommands(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read --commands " + file + ": " + e.getMessage(), e);
        }
    }

    /** The short hash of HEAD; "-dirty" when tracked files differ from it, since then the commit does not name the code. */
    private static String gitCommit() {
        String head = git("rev-parse", "--short", "HEAD");
        return git("status", "--porcelain", "--untracked-files=no").isEmpty() ? head : head + "-dirty";
    }

    private static String git(String... args) {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new UserError("`" + String.join(" ", cmd) + "` failed (" + out + "); pass --commit HASH");
            }
            return out;
        } catch (IOException e) {
            throw new UserError("cannot run git (" + e.getMessage() + "); pass --commit HASH");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while asking git for the commit; pass --commit HASH");
        }
    }
}
