package org.finetune4j.testing;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.finetune4j.api.ModelSource;

/**
 * A {@link ModelSource} registered for the core's tests (src/test/resources/META-INF/services): the id
 * {@value #ID} names the directory in the system property {@value #PROPERTY}, so tests can check that
 * {@link org.finetune4j.api.ModelLocator} asks the installed sources and lists their ids.
 */
public final class FixtureModelSource implements ModelSource {
    public static final String ID = "fixture-model";
    public static final String PROPERTY = "finetune4j.test.fixtureModel";

    @Override
    public List<String> ids() {
        return List.of(ID);
    }

    @Override
    public Optional<Path> resolve(String id) {
        String dir = System.getProperty(PROPERTY);
        return id.equals(ID) && dir != null ? Optional.of(Path.of(dir)) : Optional.empty();
    }
}
