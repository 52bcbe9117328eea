package org.finetune4j.tune;

import java.util.List;
import java.util.Map;

/**
 * Chooses the parameters of the next trial. Implementations are pure functions of (their seed, the
 * space, the history, the trial number): a study resumed from {@code study.jsonl} replays its history and
 * gets the same suggestions an uninterrupted study would have got.
 */
public interface Sampler {
    /**
     * @param history every trial started before this one, finished or not, in trial-number order
     * @param trialNumber the number the new trial will have
     * @return one value per parameter of {@code space}, in its order (Double, Integer, String or Boolean)
     */
    Map<String, Object> sample(SearchSpace space, List<Trial> history, int trialNumber, Direction direction);
}
