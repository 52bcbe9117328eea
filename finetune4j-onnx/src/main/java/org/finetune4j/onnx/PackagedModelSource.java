package org.finetune4j.onnx;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.finetune4j.api.ModelSource;

/** The packaged models as a {@link ModelSource}: registered in META-INF/services, so {@code --model all-MiniLM-L6-v2} works. */
public final class PackagedModelSource implements ModelSource {
    @Override
    public List<String> ids() {
        return PackagedModels.list().stream().map(PackagedModels.PackagedModel::id).toList();
    }

    @Override
    public Optional<Path> resolve(String id) {
        return PackagedModels.find(id).map(m -> PackagedModels.resolve(id));
    }

    /** The Hub repository the packaged export was made from, e.g. sentence-transformers/all-MiniLM-L6-v2. */
    @Override
    public Optional<String> hubId(String id) {
        return PackagedModels.find(id).map(PackagedModels.PackagedModel::upstream);
    }
}
