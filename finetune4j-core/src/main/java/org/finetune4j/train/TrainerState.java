package org.finetune4j.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.List;
import java.util.Map;

/**
 * Where a run stands, written as trainer_state.json in every checkpoint (transformers' field names
 * where they exist): enough to resume exactly, since the data order and dropout masks are pure
 * functions of (seed, epoch, step).
 *
 * @param globalStep optimizer updates done
 * @param epoch fractional epochs done, as the Trainer logs it
 * @param epochIndex the epoch in progress (0-based)
 * @param batchesDoneInEpoch micro-batches of that epoch already consumed
 * @param bestMetric the best value of metric_for_best_model so far, or null
 * @param bestModelCheckpoint the checkpoint directory name that holds it, or null
 * @param evalsWithoutImprovement early-stopping counter
 * @param logHistory every logged record (loss, learning_rate, eval metrics), in order
 */
public record TrainerState(long globalStep, double epoch, int epochIndex, int batchesDoneInEpoch, Double bestMetric,
        String bestModelCheckpoint, int evalsWithoutImprovement, List<Map<String, Object>> logHistory) {

    public static final String FILE = "trainer_state.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public TrainerState {
        logHistory = List.copyOf(logHistory);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static TrainerState fromJson(String json, String where) {
        try {
            return JSON.readValue(json, TrainerState.class);
        } catch (JsonProcessingException e) {
            throw new org.finetune4j.io.CheckpointException(where + ": not a valid trainer_state.json ("
                    + e.getOriginalMessage() + ")");
        }
    }
}
