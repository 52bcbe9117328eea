package org.finetune4j.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GridSamplerTest {
    private static final SearchSpace SPACE = SearchSpace.parse(List.of(
            "lr=choice(1e-5,3e-5,5e-5)", "optim=choice(adamw,sgd)", "epochs=int(1,3)"));

    private static List<Map<String, Object>> all(GridSampler grid) {
        List<Map<String, Object>> points = new ArrayList<>();
        for (int n = 0; !grid.exhausted(n); n++) {
            points.add(grid.sample(SPACE, List.of(), n, Direction.MINIMIZE));
        }
        return points;
    }

    @Test
    void visitsEveryPointOnceInASeededOrder() {
        GridSampler grid = new GridSampler(SPACE, 0);
        assertEquals(18, grid.size());                                          // 3 · 2 · 3
        List<Map<String, Object>> points = all(grid);
        Set<Map<String, Object>> expected = new HashSet<>();
        for (Object lr : List.of(1e-5, 3e-5, 5e-5)) {
            for (Object optim : List.of("adamw", "sgd")) {
                for (Object epochs : List.of(1, 2, 3)) {
                    expected.add(Map.of("lr", lr, "optim", optim, "epochs", epochs));
                }
            }
        }
        assertEquals(18, points.size());
        assertEquals(expected, new HashSet<>(points));
        assertEquals(List.of("lr", "optim", "epochs"), new ArrayList<>(points.get(0).keySet()));
        assertEquals(points, all(new GridSampler(SPACE, 0)));
        assertNotEquals(points, all(new GridSampler(SPACE, 1)));
    }

    @Test
    void reportsExhaustion() {
        GridSampler grid = new GridSampler(SPACE, 0);
        assertFalse(grid.exhausted(17));
        assertTrue(grid.exhausted(18));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> grid.sample(SPACE, List.of(), 18, Direction.MINIMIZE));
        assertEquals("Grid search: all 18 grid points were tried (trial 18 asked for one more); the study is done",
                e.getMessage());
    }

    @Test
    void refusesContinuousAndLargeIntegerRanges() {
        IllegalArgumentException continuous = assertThrows(IllegalArgumentException.class,
                () -> new GridSampler(SearchSpace.parse(List.of("lr=loguniform(1e-5,1e-3)")), 0));
        assertEquals("Grid search: parameter 'lr' is a continuous range; a grid needs the values listed: "
                + "write lr=choice(a,b,...)", continuous.getMessage());
        IllegalArgumentException large = assertThrows(IllegalArgumentException.class,
                () -> new GridSampler(SearchSpace.parse(List.of("seed=int(0,1000)")), 0));
        assertTrue(large.getMessage().contains("1001 values"), large.getMessage());
        assertEquals(3, new GridSampler(SearchSpace.parse(List.of("k=int(0,100,50)")), 0).size());
    }
}
