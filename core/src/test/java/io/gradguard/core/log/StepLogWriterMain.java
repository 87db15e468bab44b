package io.gradguard.core.log;

import java.nio.file.Path;
import java.util.List;

/**
 * A child process for {@code StepLogTest}: appends records to the file in args[0] in an endless
 * loop and prints each step number once the log reports its record written, until it is killed.
 */
public final class StepLogWriterMain {

    private StepLogWriterMain() {}

    public static void main(String[] args) throws Exception {
        try (StepLog log = StepLog.open(Path.of(args[0]), Long.MAX_VALUE)) {
            List<StepRecord.ParameterNorm> top = List.of(
                    new StepRecord.ParameterNorm("01Linear_weight", 3.5),
                    new StepRecord.ParameterNorm("01Linear_bias", 0.25));
            for (long step = 1; ; step++) {
                log.append(new StepRecord(
                        "m",
                        step,
                        System.currentTimeMillis(),
                        1.0 / step,
                        2.0,
                        1.0,
                        0.5,
                        false,
                        null,
                        false,
                        false,
                        Double.NaN,
                        top));
                while (log.written() < step) {
                    Thread.onSpinWait(); // one record in flight at a time: no drops, and a claim per step
                }
                System.out.println(step);
                System.out.flush();
            }
        }
    }
}
