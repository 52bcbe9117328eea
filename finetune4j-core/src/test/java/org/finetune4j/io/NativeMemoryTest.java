package org.finetune4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

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

    @Test
    @EnabledOnOs(OS.LINUX)
    void aMappingIsZeroAndOnlyItsWrittenPagesBecomeResident() {
        long size = 512L << 20;
        long before = ProcessMemory.rssBytes();
        ByteBuffer b = NativeMemory.mapZeroed(size);
        try {
            assertEquals(size, b.capacity());
            FloatBuffer f = b.asFloatBuffer();
            for (int i = 0; i < (8 << 20) / 4; i++) { // write the first 8 MiB
                assertEquals(0f, f.get(i));
                f.put(i, i);
            }
            assertEquals(0f, f.get(f.capacity() - 1));
            assertEquals(1234f, f.get(1234));
            long grew = ProcessMemory.rssBytes() - before;
            assertTrue(grew < (128L << 20), "resident memory grew by " + grew + " bytes for 8 MiB written of 512 MiB");
        } finally {
            NativeMemory.unmap(b);
            NativeMemory.unmap(b); // twice: harmless
        }
    }
}
