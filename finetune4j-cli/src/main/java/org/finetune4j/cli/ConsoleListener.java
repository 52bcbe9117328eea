package org.finetune4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.finetune4j.train.TrainerListener;

/**
 * Progress and log lines on stderr, so stdout stays clean for results. On a terminal, progress bars that
 * redraw one line with {@code \r}; when stderr is a file or a pipe (CI, nohup, {@code 2> log}), plain
 * lines instead, every 10 % of training and at most every {@value #PLAIN_INTERVAL_SECONDS} s, so a log
 * holds readable lines and not one line of carriage returns (EvaluatePredictStatsTest.redirectedProgressIsPlainLines).
 */
final class ConsoleListener implements TrainerListener {
    static final int PLAIN_INTERVAL_SECONDS = 10;

    private final PrintStream err = System.err;
    private final boolean quiet;
    private final boolean terminal;
    private final String inferenceTask;
    private ProgressBar train;
    private ProgressBar eval;
    private PlainProgress plainTrain;
    private PlainProgress plainEval;
    private Double loggedLoss;

    ConsoleListener(boolean quiet) {
        this(quiet, "eval");
    }

    /** @param inferenceTask the name of the bar of a pass over data without training ("eval", "predict") */
    ConsoleListener(boolean quiet, String inferenceTask) {
        this(quiet, inferenceTask, stderrIsTerminal());
    }

    ConsoleListener(boolean quiet, String inferenceTask, boolean terminal) {
        this.quiet = quiet;
        this.inferenceTask = inferenceTask;
        this.terminal = terminal;
    }

    /**
     * Whether stderr is a terminal. {@link System#console()} answers for stdin and stdout, not stderr, so on
     * Linux the file descriptor's link decides (/dev/pts/N or /dev/ttyN); elsewhere the console does.
     * TERM=dumb (Emacs shells, some CI runners) cannot redraw a line, so it counts as no terminal.
     */
    static boolean stderrIsTerminal() {
        if ("dumb".equals(System.getenv("TERM"))) {
            return false;
        }
        Path fd = Path.of("/proc/self/fd/2");
        if (Files.isSymbolicLink(fd)) {
            try {
                String target = Files.readSymbolicLink(fd).toString();
                return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        return System.console() != null;
    }

    @Override
    public void onTrainBegin(long totalSteps, long trainableParams, long totalParams) {
        if (quiet) {
            return;
        }
        if (terminal) {
            train = new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(err)).setUpdateIntervalMillis(500)
                    .showSpeed().build();
        } else {
            plainTrain = new PlainProgress("train", "steps", totalSteps, true);
        }
    }

    @Override
    public void onStep(long globalStep, long totalSteps, double loss, Control control) {
        // The loss shown is the one logged last (the mean since the log line before it), the value that
        // metrics.jsonl and the report's "final training loss" hold, not the single step's.
        String extra = loggedLoss == null ? "" : String.format(Locale.ROOT, " loss %.4f", loggedLoss);
        if (train != null) {
            train.stepTo(globalStep);
            train.setExtraMessage(extra);
        } else if (plainTrain != null) {
            plainTrain.update(globalStep, extra);
        }
    }

    @Override
    public void onLog(Map<String, Object> record) {
        if (record.get("loss") instanceof Number loss) {
            loggedLoss = loss.doubleValue();
        }
        if (!quiet && record.keySet().stream().anyMatch(k -> k.startsWith("eval_"))) {
            StringBuilder sb = new StringBuilder("evaluation at step " + record.get("step") + ":");
            record.forEach((k, v) -> {
                if (k.equals("eval_loss") || k.equals("eval_accuracy") || k.equals("eval_f1") || k.equals("eval_macro_f1")) {
                    sb.append(' ').append(k.substring(5)).append(' ').append(v);
                }
            });
            message(sb.toString());
        }
    }

    @Override
    public void onEvaluationProgress(int done, int total) {
        if (quiet) {
            return;
        }
        if (!terminal) {
            if (plainEval == null) {
                plainEval = new PlainProgress(inferenceTask, "examples", total, false);
            }
            plainEval.update(done, "");
            if (done >= total) {
                plainEval = null;
            }
            return;
        }
        if (eval == null) {
            eval = new ProgressBarBuilder().setTaskName(inferenceTask).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(err)).setUpdateIntervalMillis(500).build();
        }
        eval.stepTo(done);
        if (done >= total) {
            eval.close();
            eval = null;
        }
    }

    @Override
    public void onMessage(String message) {
        if (!quiet) {
            message(message);
        }
    }

    private void message(String m) {
        if (train != null) {
            err.print("\r");
        }
        err.println(m);
    }

    @Override
    public void onTrainEnd() {
        if (train != null) {
            train.close();
            train = null;
        }
        plainTrain = null;
    }

    /**
     * Progress as whole lines: one at each 10 % of the work when {@code byTenths} (training), else one at
     * the end (an evaluation or prediction pass), and one whenever {@value #PLAIN_INTERVAL_SECONDS} s have
     * passed since the last line.
     */
    private final class PlainProgress {
        private final String task;
        private final String unit;
        private final long total;
        private final boolean byTenths;
        private final long started = System.nanoTime();
        private long lastLineNanos = started;
        private long lastTenth;

        PlainProgress(String task, String unit, long total, boolean byTenths) {
            this.task = task;
            this.unit = unit;
            this.total = Math.max(1, total);
            this.byTenths = byTenths;
        }

        void update(long done, String extra) {
            long now = System.nanoTime();
            long tenth = done * 10 / total;
            boolean end = done >= total;
            boolean due = byTenths && tenth > lastTenth || now - lastLineNanos >= PLAIN_INTERVAL_SECONDS * 1_000_000_000L
                    || end && !byTenths;
            lastTenth = Math.max(lastTenth, tenth);
            if (!due) {
                return;
            }
            double elapsed = (now - started) / 1e9;
            String left = done > 0 && !end ? ", " + clock(elapsed * (total - done) / done) + " left" : "";
            err.printf(Locale.ROOT, "%s %3d%% %d/%d %s, %s elapsed%s%s%n", task, done * 100 / total, done, total, unit,
                    clock(elapsed), left, extra.isEmpty() ? "" : "," + extra);
            lastLineNanos = now;
        }
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
