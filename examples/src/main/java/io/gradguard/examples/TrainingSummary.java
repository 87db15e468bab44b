package io.gradguard.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The outcome of a run, written by {@code --summary FILE}.
 *
 * @param healthyTwin the scenario ran without its fault ({@code --no-fault})
 * @param testAccuracy the last epoch's test accuracy (0 when no epoch finished)
 * @param diverged a batch loss was NaN/Inf or exceeded {@code --divergence-bound}
 * @param divergenceStep the first diverged optimizer step (1-based), or -1
 * @param steps optimizer steps taken
 * @param parameters number of scalar parameters
 * @param weightsSha256 see {@link WeightsDigest}
 * @param medianStepMillis median wall time of one training batch: forward, backward, step
 */
record TrainingSummary(
        String model,
        String scenario,
        boolean healthyTwin,
        List<EpochResult> epochs,
        double testAccuracy,
        boolean diverged,
        int divergenceStep,
        int steps,
        long parameters,
        String weightsSha256,
        double medianStepMillis) {

    String toJson() {
        StringBuilder sb = new StringBuilder(512);
        sb.append("{\"model\":")
                .append(Json.string(model))
                .append(",\"scenario\":")
                .append(Json.string(scenario))
                .append(",\"epochs\":[");
        for (int i = 0; i < epochs.size(); i++) {
            EpochResult e = epochs.get(i);
            sb.append(i == 0 ? "" : ",")
                    .append("{\"epoch\":")
                    .append(e.epoch())
                    .append(",\"loss\":")
                    .append(Json.number(e.loss()))
                    .append(",\"train_accuracy\":")
                    .append(Json.number(e.trainAccuracy()))
                    .append(",\"test_accuracy\":")
                    .append(Json.number(e.testAccuracy()))
                    .append(",\"seconds\":")
                    .append(Json.number(e.seconds()))
                    .append(",\"steps\":")
                    .append(e.steps())
                    .append(",\"diverged\":")
                    .append(e.diverged())
                    .append('}');
        }
        return sb.append("],\"test_accuracy\":")
                .append(Json.number(testAccuracy))
                .append(",\"diverged\":")
                .append(diverged)
                .append(",\"divergence_step\":")
                .append(divergenceStep < 0 ? "null" : Integer.toString(divergenceStep))
                .append(",\"steps\":")
                .append(steps)
                .append(",\"parameters\":")
                .append(parameters)
                .append(",\"weights_sha256\":")
                .append(Json.string(weightsSha256))
                .append(",\"median_step_ms\":")
                .append(Json.number(medianStepMillis))
                .append(",\"healthy_twin\":")
                .append(healthyTwin)
                .append("}\n")
                .toString();
    }

    void write(Path file) throws IOException {
        Files.writeString(file, toJson());
    }
}
