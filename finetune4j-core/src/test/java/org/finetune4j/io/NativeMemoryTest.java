package org.finetune4j.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {

    @Test
    void trimGivesFreedLibtorchMemoryBack() {
        // surefire runs with the launcher's malloc settings (no mmap, no automatic trimming), so 200 MB
        // freed by libtorch stay in the heap until trimmed.
        try (NDManager m = NDManager.newBaseManager()) {
            for (int i = 0; i < 4; i++) {
                m.ones(new Shape(50, 1 << 20)).close(); // 200 MB each, written, freed
            }
        }
        assertTrue(NativeMemory.trim(), "malloc_trim released nothing after 200 MB were freed");
    }
}
