package org.finetune4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BenchWorkerTest {

    @AfterEach
    void clear() {
        System.clearProperty("finetune4j.profile");
    }

    @Test
    void eachWorkerGetsItsOwnProfileFile() {
        assertNull(BenchWorker.profileFile("train-full"));
        System.setProperty("finetune4j.profile", "/tmp/x.y/trace.json");
        assertEquals("/tmp/x.y/trace-train-full.json", BenchWorker.profileFile("train-full"));
        assertEquals("/tmp/x.y/trace-infer-64-bf16.json", BenchWorker.profileFile("infer-64-bf16"));
        System.setProperty("finetune4j.profile", "/tmp/x.y/trace");
        assertEquals("/tmp/x.y/trace-train-lora", BenchWorker.profileFile("train-lora"));
        System.setProperty("finetune4j.profile", "/tmp/.trace");
        assertEquals("/tmp/.trace-train-lora", BenchWorker.profileFile("train-lora"));
    }
}
