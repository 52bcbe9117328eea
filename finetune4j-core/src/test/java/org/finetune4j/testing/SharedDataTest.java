package org.finetune4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** The shared-data locator: where it looks, and that a missing file fails under CI and skips elsewhere. */
class SharedDataTest {
    @TempDir
    Path tmp;

    /** tmp/repo (a checkout: it has .git, a file in a worktree) beside tmp/shared/data/d/train.csv. */
    private Path checkoutBesideShared() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo/module"));
        Files.writeString(tmp.resolve("repo/.git"), "gitdir: elsewhere");
        Files.createDirectories(tmp.resolve("shared/data/d"));
        Files.writeString(tmp.resolve("shared/data/d/train.csv"), "text,label\n");
        return repo;
    }

    @Test
    void onlyACiValueThatIsSetAndNotFalseMakesAMissingFileFail() {
        assertTrue(SharedData.inCi("true"));
        assertTrue(SharedData.inCi("1"));
        assertFalse(SharedData.inCi(null));
        assertFalse(SharedData.inCi(""));
        assertFalse(SharedData.inCi("false"));
        assertFalse(SharedData.inCi("0"));
    }

    @Test
    void findsTheSharedFolderBesideTheCheckoutFromAModuleDirectory() throws Exception {
        Path module = checkoutBesideShared();
        Path want = tmp.resolve("shared/data/d/train.csv");
        assertEquals(want, SharedData.resolve("data/d/train.csv", null, null, module));
        assertEquals(want, SharedData.resolve("data/d/train.csv", null, "true", module));
    }

    @Test
    void aMissingFileFailsUnderCiAndIsSkippedElsewhereNamingThePath() throws Exception {
        Path module = checkoutBesideShared();
        Path missing = tmp.resolve("shared/data/sst2/dev.tsv");
        AssertionFailedError failed = assertThrows(AssertionFailedError.class,
                () -> SharedData.resolve("data/sst2/dev.tsv", null, "true", module));
        assertTrue(failed.getMessage().startsWith(missing + " is missing;"), failed.getMessage());
        assertTrue(failed.getMessage().contains("set FINETUNE4J_SHARED_DIR"), failed.getMessage());
        TestAbortedException skipped = assertThrows(TestAbortedException.class,
                () -> SharedData.resolve("data/sst2/dev.tsv", null, null, module));
        assertTrue(skipped.getMessage().contains("NOT RUN: " + missing + " is missing;"), skipped.getMessage());
    }

    @Test
    void theVariableWinsEvenWhenItNamesNoFolderSoAWrongSettingIsReported() throws Exception {
        Path module = checkoutBesideShared();
        assertEquals(tmp.resolve("shared/data/d/train.csv"),
                SharedData.resolve("data/d/train.csv", tmp.resolve("shared").toString(), "true", tmp));
        Path nowhere = tmp.resolve("no-such-folder");
        SharedData.Located l = SharedData.locate(nowhere.toString(), module);
        assertNull(l.root());
        AssertionFailedError failed = assertThrows(AssertionFailedError.class,
                () -> SharedData.resolve("data/d/train.csv", nowhere.toString(), "true", module));
        assertTrue(failed.getMessage().startsWith("FINETUNE4J_SHARED_DIR=" + nowhere + " is not a directory;"),
                failed.getMessage());
    }

    @Test
    void aCheckoutWithoutTheSharedFolderBesideItIsSkippedOutsideCi() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        Files.createDirectories(repo.resolve(".ci"));
        TestAbortedException skipped = assertThrows(TestAbortedException.class,
                () -> SharedData.resolve("data/d/train.csv", null, "false", repo));
        assertTrue(skipped.getMessage().contains(tmp.resolve("shared") + " is missing"), skipped.getMessage());
    }

    @Test
    void aTestThatReadsSharedDataWithoutTheTagFails() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class, () -> SharedData.require("data"));
        assertTrue(e.getMessage().contains("without @NeedsSharedData"), e.getMessage());
    }
}
