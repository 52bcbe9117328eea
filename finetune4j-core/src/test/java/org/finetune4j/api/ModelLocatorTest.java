package org.finetune4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.finetune4j.testing.FixtureModelSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ModelLocator#baseModelName}: the base an adapter names is the Hub id wherever one is known (issue 16). */
class ModelLocatorTest {
    @TempDir
    Path tmp;

    @Test
    void aHubIdIsRecordedWithoutItsRevision() {
        assertEquals("google-bert/bert-base-uncased", ModelLocator.baseModelName("google-bert/bert-base-uncased"));
        assertEquals("tiny-org/tiny-bert", ModelLocator.baseModelName("tiny-org/tiny-bert@v1.0"));
    }

    @Test
    void aSnapshotInTheHubCacheIsRecordedAsItsRepository() throws Exception {
        Path snapshot = Files.createDirectories(tmp.resolve("hub/models--tiny-org--tiny-bert/snapshots")
                .resolve("fedcba9876543210fedcba9876543210fedcba98"));
        assertEquals("tiny-org/tiny-bert", ModelLocator.baseModelName(snapshot.toString()));
        Path legacy = Files.createDirectories(tmp.resolve("hub/models--bert-base-uncased/snapshots/abc"));
        assertEquals("bert-base-uncased", ModelLocator.baseModelName(legacy.toString()), "a legacy single-name repository");
    }

    @Test
    void anyOtherDirectoryOrSourceIdIsRecordedAsTyped() throws Exception {
        Path plain = Files.createDirectories(tmp.resolve("my-model"));
        assertEquals(plain.toString(), ModelLocator.baseModelName(plain.toString()));
        Path notASnapshot = Files.createDirectories(tmp.resolve("models--a--b/other/c"));
        assertEquals(notASnapshot.toString(), ModelLocator.baseModelName(notASnapshot.toString()));
        // The core's test source answers to its id but knows no Hub id for it.
        assertEquals(FixtureModelSource.ID, ModelLocator.baseModelName(FixtureModelSource.ID));
    }
}
