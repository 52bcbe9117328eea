package org.finetune4j.hub;

import java.util.regex.Pattern;

/**
 * A model repository on the Hub and the revision wanted, as typed after {@code --model}:
 * {@code org/name} or {@code org/name@revision} (a branch, a tag or a commit hash; default {@code main}),
 * or a legacy single-name id such as {@code bert-base-uncased}, which the Hub answers with a redirect to
 * the repository's current name ({@code google-bert/bert-base-uncased}), as transformers resolves it.
 *
 * <p>Both parts become paths in the cache ({@code models--org--name}, {@code refs/<revision>}), so they
 * are checked before anything touches the disk or the network. The repo id follows huggingface_hub's
 * {@code validate_repo_id}: letters, digits, {@code _ - .}, each part starting and ending with a letter
 * or digit, no {@code --} or {@code ..}, no {@code .git} ending, at most 96 characters, the {@code org/}
 * part optional.
 *
 * @param repoId {@code org/name}, or {@code name} for a legacy id
 * @param revision a branch, tag or commit hash
 */
public record HubModelId(String repoId, String revision) {
    public static final String DEFAULT_REVISION = "main";
    private static final int MAX_REPO_ID = 96;

    /** One part of a repo id: word characters, '-' and '.', starting and ending with a word character. */
    private static final Pattern REPO_PART = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?");
    /** One segment of a revision or file name: it cannot start with '.', so neither "." nor ".." passes. */
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_+-][A-Za-z0-9_.+-]*");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public HubModelId {
        checkRepoId(repoId);
        checkRevision(revision);
    }

    /** Parses {@code [org/]name[@revision]}; an invalid one is an IllegalArgumentException saying why. */
    public static HubModelId parse(String spec) {
        String s = spec == null ? "" : spec.strip();
        int at = s.indexOf('@');
        if (at < 0) {
            return new HubModelId(s, DEFAULT_REVISION);
        }
        return new HubModelId(s.substring(0, at), s.substring(at + 1));
    }

    /** The cache folder of the repository, as huggingface_hub names it: {@code models--org--name}. */
    public String folderName() {
        return "models--" + repoId.replace("/", "--");
    }

    public boolean revisionIsCommit() {
        return isCommitHash(revision);
    }

    public static boolean isCommitHash(String s) {
        return s != null && COMMIT.matcher(s).matches();
    }

    @Override
    public String toString() {
        return DEFAULT_REVISION.equals(revision) ? repoId : repoId + "@" + revision;
    }

    /** Why {@code spec} is not {@code org/name[@revision]}, in a few words, or null when it is one. */
    public static String problem(String spec) {
        String s = spec == null ? "" : spec.strip();
        int at = s.indexOf('@');
        String id = at < 0 ? s : s.substring(0, at);
        String why = repoIdProblem(id);
        if (why != null) {
            return "\"" + id + "\" is not a Hugging Face repo id: " + why;
        }
        if (at >= 0 && revisionProblem(s.substring(at + 1)) != null) {
            return "\"" + s.substring(at + 1) + "\" is not a revision: " + revisionProblem(s.substring(at + 1));
        }
        return null;
    }

    static void checkRepoId(String id) {
        String why = repoIdProblem(id);
        if (why != null) {
            throw new IllegalArgumentException("\"" + id + "\" is not a Hugging Face repo id: " + why
                    + ". Give it as on huggingface.co, e.g. google-bert/bert-base-uncased.");
        }
    }

    private static String repoIdProblem(String id) {
        if (id == null || id.isEmpty()) {
            return "it is empty";
        }
        if (id.length() > MAX_REPO_ID) {
            return "it is longer than " + MAX_REPO_ID + " characters";
        }
        if (id.contains("--") || id.contains("..")) {
            return "\"--\" and \"..\" are not allowed";
        }
        if (id.endsWith(".git")) {
            return "it ends with .git";
        }
        String[] parts = id.split("/", -1);
        if (parts.length > 2) {
            return "it must be org/name or name, with at most one '/'";
        }
        if (!java.util.Arrays.stream(parts).allMatch(part -> REPO_PART.matcher(part).matches())) {
            return "each part may hold only letters, digits, '_', '-' and '.', and must start and end with a letter or digit";
        }
        return null;
    }

    static void checkRevision(String revision) {
        String why = revisionProblem(revision);
        if (why != null) {
            throw new IllegalArgumentException("\"" + revision + "\" is not a revision finetune4j accepts: " + why
                    + ". Give a branch, tag or commit hash, e.g. main, v1.0, refs/pr/1.");
        }
    }

    private static String revisionProblem(String revision) {
        if (revision == null || revision.isEmpty() || revision.length() > 255) {
            return "it must have 1 to 255 characters";
        }
        return pathIsSafe(revision) ? null : "it may hold only letters, digits and '_ - . +', in '/'-separated parts"
                + " with no empty, '.' or '..' part";
    }

    /**
     * Checks a file name in a repository (one the Hub or an index file names) before it becomes a path
     * in the cache: relative, '/'-separated, no empty, '.' or '..' segment, no backslash.
     */
    static String checkFileName(String name, String where) {
        if (name == null || name.length() > 255 || !pathIsSafe(name)) {
            throw new IllegalArgumentException(where + ": \"" + name + "\" is not a safe file name (it must be a relative"
                    + " path of letters, digits and '_ - . +' with no empty, '.' or '..' part and no backslash)");
        }
        return name;
    }

    private static boolean pathIsSafe(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (String part : s.split("/", -1)) {
            if (!SEGMENT.matcher(part).matches()) {
                return false;
            }
        }
        return true;
    }
}
