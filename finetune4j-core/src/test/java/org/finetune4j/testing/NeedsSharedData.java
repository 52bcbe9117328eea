package org.finetune4j.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class or method that reads {@code ../shared} through {@link SharedData#require}: tagged
 * {@value #TAG}, so a run can select them ({@code mvn verify -Dgroups=shared-data}) or leave them out
 * ({@code -DexcludedGroups=benchmark,shared-data}). Under CI they fail when the data is missing.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag(NeedsSharedData.TAG)
public @interface NeedsSharedData {
    String TAG = "shared-data";
}
