package org.finetune4j.report;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link ReportWriter} wrote.
 *
 * @param html the {@code report.html}
 * @param charts the PNG charts beside it, in the order the page shows them
 */
public record ReportFiles(Path html, List<Path> charts) {
    public ReportFiles {
        charts = List.copyOf(charts);
    }
}
