package org.finetune4j.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An advisory lock on a file, held against other threads of this process and against other processes,
 * so that two first uses of a cache entry build it once rather than twice. Where the file system cannot
 * lock, the work goes on unlocked: callers must still publish by atomic rename, so the cache stays whole
 * either way; the lock only saves the duplicate work (and, for appends to a shared partial file, the
 * interleaving).
 *
 * <p>A {@link FileLock} is held per JVM, not per thread (a second {@code lock()} from the same JVM throws
 * {@link java.nio.channels.OverlappingFileLockException}), hence the in-process lock in front of it.
 */
public final class ProcessLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessLock.class);
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private final ReentrantLock threadLock;
    private final FileChannel channel;
    private final FileLock lock;

    private ProcessLock(ReentrantLock threadLock, FileChannel channel, FileLock lock) {
        this.threadLock = threadLock;
        this.channel = channel;
        this.lock = lock;
    }

    /** Waits for the lock on {@code lockFile}, creating the file (and its directory) when needed. */
    public static ProcessLock acquire(Path lockFile) {
        Path key = lockFile.toAbsolutePath().normalize();
        ReentrantLock threadLock = IN_PROCESS.computeIfAbsent(key, k -> new ReentrantLock());
        threadLock.lock();
        try {
            Files.createDirectories(key.getParent());
            FileChannel ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                return new ProcessLock(threadLock, ch, ch.lock());
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        } catch (IOException e) {
            LOG.debug("cannot lock {} ({}); going on without a lock between processes", key, e.toString());
            return new ProcessLock(threadLock, null, null);
        } catch (RuntimeException e) {
            threadLock.unlock();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            if (lock != null) {
                lock.release();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            LOG.debug("releasing a file lock: {}", e.toString());
        } finally {
            threadLock.unlock();
        }
    }
}
