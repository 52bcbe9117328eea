package org.finetune4j.spark;

import java.net.URI;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local file system under another scheme ({@code remotefs://}), so a test can give a model path that
 * is a Hadoop path but not a local one, as hdfs:// or s3a:// would be (ModelFiles then copies it).
 * Registered with {@code spark.hadoop.fs.remotefs.impl}.
 */
public final class SchemeLocalFileSystem extends RawLocalFileSystem {
    static final String SCHEME = "remotefs";

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }
}
