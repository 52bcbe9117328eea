package org.finetune4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.finetune4j.api.Prediction;
import org.junit.jupiter.api.Test;

/** The batching worker on its own, with a fake model that echoes each text as its label. */
class MicroBatcherTest {
    private final List<Integer> batchSizes = Collections.synchronizedList(new ArrayList<>());
    private final Function<List<String>, List<Prediction>> echo = texts -> {
        batchSizes.add(texts.size());
        return texts.stream().map(t -> new Prediction(t, 1.0, List.of(t), Map.of(t, 1.0))).toList();
    };

    @Test
    void requestsArrivingTogetherShareAPassUpToTheMaximumAndEachGetsItsOwnRows() throws Exception {
        int requests = 10;
        ExecutorService pool = Executors.newFixedThreadPool(requests);
        try (MicroBatcher b = new MicroBatcher(echo, new ServerConfig.Batching(true, Duration.ofMillis(300), 4, 64, 1))) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<Prediction>>> out = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                List<String> texts = i % 3 == 0 ? List.of("r" + i + "a", "r" + i + "b") : List.of("r" + i);
                out.add(pool.submit(() -> {
                    go.await();
                    return b.classify(texts);
                }));
            }
            go.countDown();
            for (int i = 0; i < requests; i++) {
                List<Prediction> p = out.get(i).get(30, TimeUnit.SECONDS);
                List<String> want = i % 3 == 0 ? List.of("r" + i + "a", "r" + i + "b") : List.of("r" + i);
                assertEquals(want, p.stream().map(Prediction::label).toList());
            }
            assertEquals(14, batchSizes.stream().mapToInt(Integer::intValue).sum());
            assertTrue(batchSizes.stream().allMatch(n -> n <= 4), "no batch above max-batch-size: " + batchSizes);
            assertTrue(b.forwardPasses() < requests, batchSizes.toString());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void severalWorkersShareTheQueueAndEveryRequestGetsItsOwnAnswer() throws Exception {
        int requests = 24;
        ExecutorService pool = Executors.newFixedThreadPool(requests);
        try (MicroBatcher b = new MicroBatcher(echo, new ServerConfig.Batching(true, Duration.ofMillis(20), 4, 64, 3))) {
            List<Future<List<Prediction>>> out = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                String t = "t" + i;
                out.add(pool.submit(() -> b.classify(List.of(t))));
            }
            for (int i = 0; i < requests; i++) {
                assertEquals("t" + i, out.get(i).get(30, TimeUnit.SECONDS).get(0).label());
            }
            assertEquals(requests, batchSizes.stream().mapToInt(Integer::intValue).sum());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRequestLargerThanTheMaximumRunsAlone() throws Exception {
        try (MicroBatcher b = new MicroBatcher(echo, new ServerConfig.Batching(true, Duration.ZERO, 2, 8, 1))) {
            assertEquals(5, b.classify(List.of("a", "b", "c", "d", "e")).size());
            assertEquals(List.of(5), batchSizes);
        }
    }

    @Test
    void aFailedPassFailsItsRequestsAndTheWorkerCarriesOn() throws Exception {
        Function<List<String>, List<Prediction>> flaky = texts -> {
            if (texts.contains("boom")) {
                throw new IllegalStateException("model failed");
            }
            return echo.apply(texts);
        };
        try (MicroBatcher b = new MicroBatcher(flaky, new ServerConfig.Batching(true, Duration.ZERO, 8, 8, 1))) {
            assertThrows(IllegalStateException.class, () -> b.classify(List.of("boom")));
            assertEquals("fine", b.classify(List.of("fine")).get(0).label());
        }
    }

    @Test
    void afterCloseNewRequestsAreRefused() {
        MicroBatcher b = new MicroBatcher(echo, ServerConfig.Batching.defaults());
        b.close();
        ApiError e = assertThrows(ApiError.class, () -> b.classify(List.of("late")));
        assertEquals(503, e.status());
    }
}
