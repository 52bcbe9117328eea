package org.finetune4j.tune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Every combination of the listed values, once each (Optuna's {@code GridSampler}): the cartesian product
 * of each parameter's {@code choice} values (and of small integer ranges, every integer in them), put in a
 * seeded random order as Optuna shuffles its grid, so stopping early still spreads the trials over the space.
 * Trial n takes grid point n; there are {@link #size()} trials in all, after which {@link #exhausted} is
 * true and {@link #sample} refuses.
 */
public final class GridSampler implements Sampler {
    /** An integer range with more values than this is refused: list the wanted ones with choice(...). */
    public static final int MAX_INT_VALUES = 100;
    /** A grid larger than this is refused: no study runs a million trials. */
    public static final int MAX_GRID_SIZE = 1_000_000;

    private final SearchSpace space;
    private final List<Map<String, Object>> points;

    public GridSampler(SearchSpace space, long seed) {
        this.space = space;
        List<String> names = new ArrayList<>(space.params().keySet());
        List<List<Object>> axes = new ArrayList<>();
        long size = 1;
        for (String name : names) {
            List<Object> values = values(name, space.params().get(name));
            axes.add(values);
            size *= values.size();
            if (size > MAX_GRID_SIZE) {
                throw new IllegalArgumentException("Grid search: the grid has more than " + MAX_GRID_SIZE
                        + " points; list fewer values");
            }
        }
        List<Map<String, Object>> grid = new ArrayList<>();
        for (int index = 0; index < size; index++) {
            Object[] values = new Object[names.size()];
            int rest = index;
            for (int d = names.size() - 1; d >= 0; d--) {          // the last parameter varies fastest
                List<Object> axis = axes.get(d);
                values[d] = axis.get(rest % axis.size());
                rest /= axis.size();
            }
            Map<String, Object> point = new LinkedHashMap<>();
            for (int d = 0; d < names.size(); d++) {
                point.put(names.get(d), values[d]);
            }
            grid.add(Collections.unmodifiableMap(point));
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = grid.size() - 1; i > 0; i--) {                  // Fisher-Yates
            int j = random.nextInt(i + 1);
            Map<String, Object> swap = grid.get(i);
            grid.set(i, grid.get(j));
            grid.set(j, swap);
        }
        this.points = List.copyOf(grid);
    }

    private static List<Object> values(String name, Distribution distribution) {
        if (distribution instanceof Distribution.Categorical c) {
            return c.choices();
        }
        if (distribution instanceof Distribution.IntRange r) {
            int count = (r.high() - r.low()) / r.step() + 1;
            if (count > MAX_INT_VALUES) {
                throw new IllegalArgumentException("Grid search: parameter '" + name + "' is an integer range with "
                        + count + " values (more than " + MAX_INT_VALUES + "); list the values to try with "
                        + "choice(...), e.g. " + name + "=choice(" + r.low() + "," + r.high() + ")");
            }
            List<Object> values = new ArrayList<>();
            for (int v = r.low(); v <= r.high(); v += r.step()) {
                values.add(v);
            }
            return values;
        }
        throw new IllegalArgumentException("Grid search: parameter '" + name + "' is a continuous range; a grid "
                + "needs the values listed: write " + name + "=choice(a,b,...)");
    }

    /** How many trials the grid holds. */
    public int size() {
        return points.size();
    }

    /** True when trial {@code trialNumber} would be past the end of the grid. */
    public boolean exhausted(int trialNumber) {
        return trialNumber >= points.size();
    }

    @Override
    public Map<String, Object> sample(SearchSpace space, List<Trial> history, int trialNumber, Direction direction) {
        if (!space.equals(this.space)) {
            throw new IllegalArgumentException("Grid search: the sampler was built for " + this.space.params().keySet()
                    + " but is asked about " + space.params().keySet());
        }
        if (exhausted(trialNumber)) {
            throw new IllegalStateException("Grid search: all " + points.size() + " grid points were tried (trial "
                    + trialNumber + " asked for one more); the study is done");
        }
        return points.get(trialNumber);
    }
}
