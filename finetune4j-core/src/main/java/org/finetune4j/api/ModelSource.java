package org.finetune4j.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * A source of model directories by short id, such as the packaged models that finetune4j-onnx imports
 * from their Maven artifacts. {@link ModelLocator} asks every source on the class path (Java's
 * {@link ServiceLoader}, {@code META-INF/services/org.finetune4j.api.ModelSource}) before the Hub, so
 * the core library needs no ONNX code and an application may add its own catalogue.
 */
public interface ModelSource {
    /** The ids this source answers to, for error messages. */
    List<String> ids();

    /** The local Hugging Face directory of {@code id} (made on first use), or empty when the id is not this source's. */
    Optional<Path> resolve(String id);

    /**
     * The Hugging Face Hub id of the model {@code id} names, if this source knows it (a packaged model's
     * upstream repository), so that an adapter trained on it names a base that Python can load. Resolves
     * nothing.
     */
    default Optional<String> hubId(String id) {
        return Optional.empty();
    }

    /** Every source on the class path, in class-path order. */
    static List<ModelSource> installed() {
        return ServiceLoader.load(ModelSource.class).stream().map(ServiceLoader.Provider::get).toList();
    }
}
