package org.finetune4j.cli;

import java.io.PrintStream;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.finetune4j.train.TrainerListener;

/** Progress bars and log lines on the terminal (stderr, so stdout stays clean for results). */
final class ConsoleListener implements TrainerListener {
    private final PrintStream err = System.err;
    private final boolean quiet;
    private final String inferenceTask;
    private ProgressBar train;
    private ProgressBar eval;

    ConsoleListener(boolean quiet) {
        this(quiet, "eval");
    }

    /** @param inferenceTask the name of the bar of a pass over data without training ("eval", "predict") */
    ConsoleListener(boolean quiet, String inferenceTask) {
        this.quiet = quiet;
        this.inferenceTask = inferenceTask;
    }

    @Override
    public void onTrainBegin(long totalSteps, long trainableParams, long totalParams) {
        if (!quiet) {
            train = new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(err)).setUpdateIntervalMillis(500)
                    .showSpeed().build();
        }
    }

    @Override
    public void onStep(long globalStep, long totalSteps, double loss, Control control) {
        if (train != null) {
            train.stepTo(globalStep);
            train.setExtraMessage(String.format(" loss %.4f", loss));
        }
    }

    @Override
    public void onLog(Map<String, Object> record) {
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
    }
}
