package org.finetune4j.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

class TpeSamplerTest {
    private static final SearchSpace SQUARE = SearchSpace.parse(List.of("x=uniform(0,1)", "y=uniform(0,1)"));

    /** (x − 0.3)² + (y − 0.7)², minimum 0 at (0.3, 0.7). */
    private static double bowl(Map<String, Object> p) {
        double x = (Double) p.get("x");
        double y = (Double) p.get("y");
        return (x - 0.3) * (x - 0.3) + (y - 0.7) * (y - 0.7);
    }

    /** Runs a sequential study and returns its trials. */
    static List<Trial> study(Sampler sampler, SearchSpace space, ToDoubleFunction<Map<String, Object>> objective,
            int nTrials, Direction direction) {
        List<Trial> trials = new ArrayList<>();
        for (int n = 0; n < nTrials; n++) {
            Map<String, Object> params = sampler.sample(space, List.copyOf(trials), n, direction);
            trials.add(new Trial(n, params, TrialState.COMPLETE, objective.applyAsDouble(params), new TreeMap<>()));
        }
        return trials;
    }

    private static double bestAfter(List<Trial> trials, int n) {
        return trials.subList(0, n).stream().mapToDouble(Trial::value).min().orElseThrow();
    }

    @Test
    void tpeFindsTheBowlsMinimumFasterThanRandomSearch() {
        int seeds = 20;
        int budget = 60;
        double tpeBest = 0;
        double randomBest = 0;
        double tpeFirstHit = 0;
        double randomFirstHit = 0;
        for (int seed = 0; seed < seeds; seed++) {
            List<Trial> tpe = study(new TpeSampler(seed), SQUARE, TpeSamplerTest::bowl, budget, Direction.MINIMIZE);
            List<Trial> random = study(new RandomSampler(seed), SQUARE, TpeSamplerTest::bowl, budget, Direction.MINIMIZE);
            tpeBest += bestAfter(tpe, budget) / seeds;
            randomBest += bestAfter(random, budget) / seeds;
            tpeFirstHit += firstWithin(tpe, 0.05 * 0.05, budget) / (double) seeds;
            randomFirstHit += firstWithin(random, 0.05 * 0.05, budget) / (double) seeds;
        }
        System.out.printf("bowl, %d seeds, %d trials: mean best TPE %.6f random %.6f; "
                + "mean trials to within 0.05 of the minimum TPE %.1f random %.1f%n",
                seeds, budget, tpeBest, randomBest, tpeFirstHit, randomFirstHit);
        assertTrue(tpeBest < 0.25 * randomBest, "TPE mean best " + tpeBest + " vs random " + randomBest);
        assertTrue(tpeFirstHit < 0.75 * randomFirstHit, "TPE " + tpeFirstHit + " vs random " + randomFirstHit);
    }

    /** The 1-based number of the first trial within radius √threshold of the minimum; budget + 1 if none. */
    private static int firstWithin(List<Trial> trials, double threshold, int budget) {
        for (int i = 0; i < trials.size(); i++) {
            if (trials.get(i).value() <= threshold) {
                return i + 1;
            }
        }
        return budget + 1;
    }

    @Test
    void sameSeedGivesTheSameTrialsAndAnotherSeedOthers() {
        SearchSpace mixed = SearchSpace.parse(List.of("lr=loguniform(1e-5,1e-2)", "epochs=int(1,5)",
                "batch=choice(8,16,32)", "warmup=int(1,64,log)"));
        ToDoubleFunction<Map<String, Object>> objective = p -> Math.abs(Math.log10((Double) p.get("lr")) + 3.5)
                + (Integer) p.get("epochs") * 0.1 + ((Integer) p.get("batch") == 16 ? 0 : 1)
                + Math.abs((Integer) p.get("warmup") - 8) * 0.01;
        List<Map<String, Object>> a = params(study(new TpeSampler(7), mixed, objective, 25, Direction.MINIMIZE));
        List<Map<String, Object>> b = params(study(new TpeSampler(7), mixed, objective, 25, Direction.MINIMIZE));
        List<Map<String, Object>> c = params(study(new TpeSampler(8), mixed, objective, 25, Direction.MINIMIZE));
        assertEquals(a, b);
        assertNotEquals(a.subList(10, 25), c.subList(10, 25));
        // The first 10 (startup) trials are the random sampler's with the same seed.
        assertEquals(params(study(new RandomSampler(7), mixed, objective, 10, Direction.MINIMIZE)), a.subList(0, 10));
        for (Map<String, Object> p : a) {
            double lr = (Double) p.get("lr");
            int epochs = (Integer) p.get("epochs");
            int warmup = (Integer) p.get("warmup");
            assertTrue(lr >= 1e-5 && lr <= 1e-2 && epochs >= 1 && epochs <= 5 && warmup >= 1 && warmup <= 64, p.toString());
            assertTrue(List.of(8, 16, 32).contains(p.get("batch")), p.toString());
        }
        // A resumed study asks with the same history and trial number: the same suggestion.
        List<Trial> history = study(new TpeSampler(7), mixed, objective, 20, Direction.MINIMIZE);
        assertEquals(new TpeSampler(7).sample(mixed, history, 20, Direction.MINIMIZE), a.get(20));
    }

    private static Trial finished(int number, TrialState state, Double value, double... intermediate) {
        TreeMap<Integer, Double> steps = new TreeMap<>();
        for (int i = 0; i < intermediate.length; i++) {
            steps.put(i + 1, intermediate[i]);
        }
        return new Trial(number, Map.of(), state, value, steps);
    }

    @Test
    void splitRanksCompleteTrialsThenPrunedOnesByHowFarTheyGot() {
        List<Trial> trials = List.of(
                finished(0, TrialState.COMPLETE, 0.5),
                finished(1, TrialState.PRUNED, null, 0.9, 0.8),        // pruned at evaluation 2
                finished(2, TrialState.COMPLETE, 0.2),
                finished(3, TrialState.PRUNED, null, 0.1),             // pruned at 1: ranks after trial 1
                finished(4, TrialState.PRUNED, null, 0.95, 0.7),       // pruned at 2, better value than trial 1
                finished(5, TrialState.COMPLETE, 0.9));
        List<List<Trial>> two = TpeSampler.split(trials, 2, Direction.MINIMIZE);
        assertEquals(List.of(0, 2), numbers(two.get(0)));
        assertEquals(List.of(1, 3, 4, 5), numbers(two.get(1)));
        List<List<Trial>> four = TpeSampler.split(trials, 4, Direction.MINIMIZE);
        assertEquals(List.of(0, 2, 4, 5), numbers(four.get(0)));          // 3 complete, then pruned trial 4
        List<List<Trial>> maximise = TpeSampler.split(trials, 4, Direction.MAXIMIZE);
        assertEquals(List.of(0, 1, 2, 5), numbers(maximise.get(0)));       // pruned at 2 with 0.8 beats 0.7
        assertEquals(List.of(3, 4), numbers(maximise.get(1)));
    }

    private static List<Integer> numbers(List<Trial> trials) {
        return trials.stream().map(Trial::number).toList();
    }

    private static List<Map<String, Object>> params(List<Trial> trials) {
        return trials.stream().map(Trial::params).toList();
    }
}
