package io.gradguard.core.log;

import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;

/** Writes each step's report to the step log as one JSON Lines record. */
public final class StepLogSink implements StepSink {

    private final StepLog log;

    /**
     * Creates the sink.
     *
     * @param log the open step log, shared by every trainer of the JVM
     */
    public StepLogSink(StepLog log) {
        this.log = log;
    }

    @Override
    public String name() {
        return "step_log";
    }

    @Override
    public void accept(StepReport r) {
        boolean skipped = r.skipped();
        log.append(new StepRecord(
                r.model(),
                r.step(),
                r.wallMillis(),
                r.loss(),
                r.stats().globalNorm(),
                r.clip().clippedGlobalNorm(),
                r.clip().coefficient(),
                skipped,
                r.skipReason(),
                r.detection().explosion(),
                r.detection().vanishing(),
                r.detection().zScore(),
                StepRecord.topK(r.stats().parameters(), StepRecord.DEFAULT_TOP)));
    }
}
