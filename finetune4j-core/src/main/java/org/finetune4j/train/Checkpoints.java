package org.finetune4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;

/**
 * A run's {@code checkpoint-N} directories, as transformers' Trainer lays them out: the model (or adapter)
 * through its {@link CheckpointFormat} (with EMA, the averaged weights, and {@value Ema#FILE} beside them),
 * {@value #OPTIMIZER_FILE}, {@link TrainerState#FILE} and
 * {@value #TRAINING_ARGS_FILE}. Each is written to a hidden temporary directory and renamed into place, so
 * an interrupted write never leaves a half checkpoint under a real name. Keeps at most save_total_limit,
 * never deleting the best or the latest, and loads the best at the end.
 */
final class Checkpoints {
    static final String OPTIMIZER_FILE = "optimizer.safetensors";
    static final String TRAINING_ARGS_FILE = "training_args.json";

    private final Path outputDir;
    private final CheckpointFormat format;
    private final TrainingConfig cfg;
    private final AdamW optimizer;
    private final Ema ema;
    private final TrainerListener listener;
    private String bestName;
    private Path last;

    /** @param ema the weight average: in use while a checkpoint is written, its training weights saved beside */
    Checkpoints(Path outputDir, CheckpointFormat format, TrainingConfig cfg, AdamW optimizer, Ema ema,
            TrainerListener listener) {
        this.outputDir = outputDir;
        this.format = format;
        this.cfg = cfg;
        this.optimizer = optimizer;
        this.ema = ema;
        this.listener = listener;
    }

    /**
     * Deletes the hidden {@code .checkpoint-N.tmp} directories that a run killed while writing a checkpoint
     * left (up to a whole model and optimizer state each). Only one run uses a directory at a time
     * (org.finetune4j.api.RunDirectory.Lock), so none of them is being written now.
     */
    void removeStale() {
        if (!Files.isDirectory(outputDir)) {
            return;
        }
        try (var st = Files.list(outputDir)) {
            for (Path p : st.filter(q -> q.getFileName().toString().matches("\\.checkpoint-\\d+\\.tmp")).toList()) {
                listener.onMessage("removing " + p.getFileName() + ", a checkpoint an earlier run did not finish writing");
                deleteRecursively(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + outputDir + ": " + e.getMessage(), e);
        }
    }

    /** Remembers the checkpoint of {@code globalStep} as the best so far (before it is written). */
    void markBest(long globalStep) {
        bestName = name(globalStep);
    }

    /** The best checkpoint's directory name, or null. */
    String bestName() {
        return bestName;
    }

    Path bestPath() {
        return bestName == null ? null : outputDir.resolve(bestName);
    }

    /** The latest checkpoint written or resumed from, or null. */
    Path lastPath() {
        return last;
    }

    void write(TrainerState state) {
        String name = name(state.globalStep());
        Path target = outputDir.resolve(name);
        Path tmp = outputDir.resolve("." + name + ".tmp");
        try {
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            format.save(tmp);
            ema.save(tmp);
            SafeTensors.write(tmp.resolve(OPTIMIZER_FILE), optimizer.stateViews(), Map.of("step", Long.toString(optimizer.stepCount())));
            AtomicFiles.writeString(tmp.resolve(TrainerState.FILE), state.toJson());
            AtomicFiles.writeString(tmp.resolve(TRAINING_ARGS_FILE), cfg.toJson());
            deleteRecursively(target);
            AtomicFiles.moveAtomically(tmp, target);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write checkpoint " + target + ": " + e.getMessage(), e);
        }
        last = target;
        listener.onCheckpoint(target);
        rotate();
    }

    /** Keeps at most save_total_limit checkpoints, never deleting the best or the latest. */
    private void rotate() {
        Integer limit = cfg.saveTotalLimit();
        if (limit == null) {
            return;
        }
        List<Path> all = list(outputDir);
        int excess = all.size() - limit;
        for (Path p : all) {
            if (excess <= 0) {
                break;
            }
            if (p.getFileName().toString().equals(bestName) || p.equals(last)) {
                continue;
            }
            deleteRecursively(p);
            excess--;
        }
    }

    /**
     * Restores the model, the optimizer, early stopping and the log history from {@code dir}; returns
     * where the run stood.
     */
    TrainerState resume(Path dir, EarlyStopping early, List<Map<String, Object>> logHistory) {
        Path stateFile = dir.resolve(TrainerState.FILE);
        if (!Files.isRegularFile(stateFile)) {
            throw new CheckpointException(dir + ": not a training checkpoint (no " + TrainerState.FILE + ")."
                    + " Pass a checkpoint-N directory of an earlier run.");
        }
        try {
            TrainerState st = TrainerState.fromJson(Files.readString(stateFile), stateFile.toString());
            TrainingConfig saved = TrainingConfig.fromJson(Files.readString(dir.resolve(TRAINING_ARGS_FILE)));
            if (!saved.equals(cfg)) {
                listener.onMessage("note: the training settings differ from those of " + dir
                        + "; the run continues with the new ones, so it will not match an uninterrupted run");
            }
            format.restore(dir);
            ema.restore(dir);
            try (SafeTensors opt = SafeTensors.open(dir.resolve(OPTIMIZER_FILE))) {
                Map<String, HostTensor> state = opt.readAll();
                optimizer.restore(state, Long.parseLong(opt.metadata().getOrDefault("step", Long.toString(st.globalStep()))));
            }
            early.restore(st.bestMetric(), st.evalsWithoutImprovement());
            bestName = st.bestModelCheckpoint();
            logHistory.addAll(st.logHistory());
            last = dir;
            listener.onMessage("resuming from " + dir + " at step " + st.globalStep() + " (epoch " + st.epoch() + ")");
            return st;
        } catch (IOException e) {
            throw new UncheckedIOException("could not read checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }

    /** load_best_model_at_end: restores the best checkpoint's weights unless the last step is the best. */
    void loadBest(long globalStep, String bestKey, Double best) {
        if (!cfg.loadBestModelAtEnd() || bestName == null) {
            return;
        }
        if (bestName.equals(name(globalStep))) {
            listener.onMessage("the best model (" + bestKey + " = " + best + ") is the last step's: nothing to load");
            return;
        }
        listener.onMessage("loading the best model (" + bestKey + " = " + best + ") from " + bestName);
        format.restore(outputDir.resolve(bestName));
    }

    private static String name(long globalStep) {
        return "checkpoint-" + globalStep;
    }

    /** checkpoint-N directories of a run, oldest first. */
    static List<Path> list(Path outputDir) {
        if (!Files.isDirectory(outputDir)) {
            return List.of();
        }
        try (var st = Files.list(outputDir)) {
            return st.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+") && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(11))))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteRecursively(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + p + ": " + e.getMessage(), e);
        }
    }
}
