package org.finetune4j.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.finetune4j.io.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One repository's folder in the Hugging Face cache, laid out as huggingface_hub lays it out, so that
 * Python and finetune4j share downloads:
 * <pre>
 * models--org--name/
 *   blobs/&lt;etag&gt;                     the bytes, named by the Hub's etag (git sha1, or sha256 for LFS files)
 *   blobs/&lt;etag&gt;.incomplete          a download in progress, resumed from where it stopped
 *   snapshots/&lt;commit&gt;/&lt;file&gt;       a relative symlink to ../../blobs/&lt;etag&gt; (a copy where links fail)
 *   refs/&lt;revision&gt;                  the commit hash the revision pointed to when last fetched
 *   .no_exist/&lt;commit&gt;/&lt;file&gt;       an empty marker: the Hub answered 404 for this optional file
 * .locks/models--org--name/&lt;etag&gt;.lock
 * </pre>
 */
final class HubCache {
    private static final Logger LOG = LoggerFactory.getLogger(HubCache.class);
    /** An etag becomes a file name: it is checked to be one plain name, as the Hub's hex digests are. */
    private static final Pattern SAFE_ETAG = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9_.+-]{0,127}");

    private final Path cacheDir;
    private final Path root;
    private final HubModelId id;

    HubCache(Path cacheDir, HubModelId id) {
        this.cacheDir = cacheDir;
        this.id = id;
        this.root = cacheDir.resolve(id.folderName());
    }

    Path root() {
        return root;
    }

    Path snapshot(String commit) {
        return root.resolve("snapshots").resolve(commit);
    }

    /** A file of a snapshot; {@code file} was checked by {@link HubModelId#checkFileName}. */
    Path pointer(String commit, String file) {
        return snapshot(commit).resolve(file);
    }

    Path blob(String etag) {
        return root.resolve("blobs").resolve(etag);
    }

    Path incomplete(String etag) {
        return root.resolve("blobs").resolve(etag + ".incomplete");
    }

    Path lockFile(String etag) {
        return cacheDir.resolve(".locks").resolve(id.folderName()).resolve(etag + ".lock");
    }

    Path ref(String revision) {
        return root.resolve("refs").resolve(revision);
    }

    static boolean isSafeEtag(String etag) {
        return etag != null && SAFE_ETAG.matcher(etag).matches();
    }

    /** The commit {@code revision} names in the cache: the revision itself if it is a commit hash, else refs/. */
    Optional<String> commitOf(String revision) {
        if (HubModelId.isCommitHash(revision)) {
            return Optional.of(revision);
        }
        Path ref = ref(revision);
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            if (!HubModelId.isCommitHash(commit)) {
                LOG.warn("{} does not hold a commit hash; ignoring it", ref);
                return Optional.empty();
            }
            return Optional.of(commit);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + ref + ": " + e.getMessage(), e);
        }
    }

    void writeRef(String revision, String commit) {
        AtomicFiles.writeString(ref(revision), commit);
    }

    /** Whether the snapshot has {@code file} with its bytes (a dangling link does not count). */
    boolean has(String commit, String file) {
        return Files.isRegularFile(pointer(commit, file));
    }

    boolean knownMissing(String commit, String file) {
        return Files.exists(root.resolve(".no_exist").resolve(commit).resolve(file));
    }

    void markMissing(String commit, String file) {
        Path marker = root.resolve(".no_exist").resolve(commit).resolve(file);
        try {
            Files.createDirectories(marker.getParent());
            Files.createFile(marker);
        } catch (FileAlreadyExistsException e) {
            // another process marked it first
        } catch (IOException e) {
            LOG.debug("cannot write {}: {}", marker, e.toString()); // only a shortcut for next time
        }
    }

    /**
     * Puts {@code file} into the snapshot as a relative symlink to its blob, as huggingface_hub does (so
     * moving the whole cache keeps it valid); where links cannot be made (some Windows and network file
     * systems) the blob is copied instead. Either way the pointer appears in one atomic rename.
     */
    void link(String commit, String file, Path blob) {
        Path pointer = pointer(commit, file);
        Path tmp = pointer.resolveSibling("." + pointer.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            Files.createDirectories(pointer.getParent());
            try {
                Files.createSymbolicLink(tmp, pointer.getParent().relativize(blob));
            } catch (IOException | UnsupportedOperationException e) {
                LOG.debug("cannot make a symlink in {} ({}); copying the blob instead", pointer.getParent(), e.toString());
                Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            AtomicFiles.moveAtomically(tmp, pointer);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + pointer + " in the Hugging Face cache: " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort: a hidden .tmp name
            }
        }
    }
}
