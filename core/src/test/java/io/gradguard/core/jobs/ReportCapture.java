package io.gradguard.core.jobs;

import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import java.util.ArrayList;
import java.util.List;

/** A sink that keeps every report an engine hands it, in order, for tests to read. */
public final class ReportCapture implements StepSink {

    /** The reports, oldest first. */
    public final List<StepReport> reports = new ArrayList<>();

    @Override
    public String name() {
        return "test_capture";
    }

    @Override
    public void accept(StepReport report) {
        reports.add(report);
    }
}
