package org.finetune4j.spark;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a model directory named by a stage's {@code modelPath} lies on this JVM's machine. Three forms,
 * tried in this order:
 * <ol>
 *   <li>a bare name (no '/', no scheme) of a directory Spark shipped to every node:
 *       {@code spark-submit --archives model.tar.gz#model ... --model model} unpacks it under
 *       {@link SparkFiles#getRootDirectory()} (or {@code SparkContext.addFile(dir, true)});</li>
 *   <li>a directory of the local file system ({@code /models/x} or {@code file:/models/x}) that exists
 *       here, used in place;</li>
 *   <li>any other Hadoop {@link FileSystem} path ({@code hdfs://}, {@code s3a://}, or a {@code file:} path
 *       this machine lacks): copied once per JVM into a local directory under Spark's per-application
 *       scratch directory, which Spark removes when the executor ends.</li>
 * </ol>
 * The Hadoop configuration is Spark's ({@code spark.hadoop.*} settings apply, e.g. S3A credentials).
 */
final class ModelFiles {
    private static final Logger LOG = LoggerFactory.getLogger(ModelFiles.class);
    /** Copies made in this JVM, by model path: a path is copied once however many tasks ask. */
    private static final Map<String, Path> COPIES = new ConcurrentHashMap<>();

    private ModelFiles() {
    }

    /** The local directory holding {@code modelPath}; fails naming the path and this host when it cannot be read. */
    static Path local(String modelPath) {
        if (modelPath == null || modelPath.isBlank()) {
            throw new IllegalArgumentException("no model path given: set modelPath to a model directory");
        }
        Path shipped = shipped(modelPath);
        if (shipped != null) {
            return shipped;
        }
        Path local = localPath(modelPath);
        if (local != null && Files.isDirectory(local)) {
            return local;
        }
        return COPIES.computeIfAbsent(modelPath, ModelFiles::copy);
    }

    /** The local file-system path {@code modelPath} names (no scheme, or file:), or null for another file system's. */
    private static Path localPath(String modelPath) {
        if (modelPath.startsWith("file:")) {
            return Path.of(new org.apache.hadoop.fs.Path(modelPath).toUri().getPath());
        }
        return URI_SCHEME.matcher(modelPath).lookingAt() ? null : Path.of(modelPath);
    }

    /** A URI scheme of two letters or more (so a Windows drive letter is not taken for one). */
    private static final java.util.regex.Pattern URI_SCHEME = java.util.regex.Pattern.compile("[a-zA-Z][a-zA-Z0-9+.-]+:");

    /** A directory Spark shipped under this name (--archives, addFile), or null. */
    private static Path shipped(String name) {
        if (name.contains("/") || name.contains(":") || SparkEnv.get() == null) {
            return null;
        }
        Path p = Path.of(SparkFiles.getRootDirectory(), name);
        return Files.isDirectory(p) ? p : null;
    }

    private static Path copy(String modelPath) {
        long start = System.nanoTime();
        Path root = SparkEnv.get() == null ? Path.of(System.getProperty("java.io.tmpdir")) : Path.of(SparkFiles.getRootDirectory());
        Path dest = root.resolve("finetune4j-models").resolve(hash(modelPath));
        boolean directory;
        try {
            Configuration conf = SparkEnv.get() == null ? new Configuration()
                    : SparkHadoopUtil.get().newConfiguration(SparkEnv.get().conf());
            org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(modelPath);
            FileSystem fs = src.getFileSystem(conf);
            directory = fs.getFileStatus(src).isDirectory();
            if (directory && !Files.isDirectory(dest)) {
                Files.createDirectories(dest.getParent());
                Path tmp = Files.createTempDirectory(dest.getParent(), "copy");
                fs.copyToLocalFile(false, src, new org.apache.hadoop.fs.Path(tmp.resolve("model").toUri()), true);
                Files.move(tmp.resolve("model"), dest, StandardCopyOption.ATOMIC_MOVE);
                Files.delete(tmp);
                LOG.info("finetune4j: copied model {} to {} in {} ms", modelPath, dest, (System.nanoTime() - start) / 1_000_000);
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the model path " + modelPath + " cannot be read on host " + host() + " ("
                    + e + "). Give a directory every executor can read: a Hadoop path (hdfs://, s3a://), a shared"
                    + " file system, or ship it with spark-submit --archives model.tar.gz#model and modelPath=model", e);
        }
        if (!directory) {
            throw new IllegalArgumentException("the model path " + modelPath + " is a file, not a model directory"
                    + " (config.json, model.safetensors, tokenizer.json)");
        }
        return dest;
    }

    private static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "(unknown host)";
        }
    }
}
