package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import java.util.List;

/** Pairs each gradient with its statistics: policies that act per parameter rely on the order. */
final class Alignment {

    private Alignment() {}

    static List<ParameterStats> check(List<ParameterGradient> gradients, StepStats stats) {
        List<ParameterStats> perParameter = stats.parameters();
        if (perParameter.size() != gradients.size()) {
            throw new IllegalArgumentException(
                    "stats describe " + perParameter.size() + " parameters, got " + gradients.size() + " gradients");
        }
        return perParameter;
    }
}
