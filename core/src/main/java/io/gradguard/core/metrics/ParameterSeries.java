package io.gradguard.core.metrics;

import io.gradguard.core.console.Console;
import io.gradguard.core.stats.ParameterStats;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The per-parameter series ({@code parameter} label) of one model: created at a parameter's first
 * step when the allow-list matches its name and the cap leaves room; the others are named once on
 * the console and get none.
 */
final class ParameterSeries {

    private final MeterRegistry registry;
    private final Tags tags;
    private final Pattern parameterFilter;
    private final int maxParameters;
    private final Map<String, ParameterGauges> parameters = new HashMap<>();
    private String[] lastNames = new String[0];
    private ParameterGauges[] lastGauges = new ParameterGauges[0];
    private int droppedParameters;

    ParameterSeries(MeterRegistry registry, Tags tags, Pattern parameterFilter, int maxParameters) {
        this.registry = registry;
        this.tags = tags;
        this.parameterFilter = parameterFilter;
        this.maxParameters = maxParameters;
    }

    /** One step's figures of every parameter; {@code ratios} is null on steps without update ratios. */
    void record(List<ParameterStats> parameters, double[] ratios) {
        ParameterGauges[] gauges = gaugesFor(parameters);
        for (int i = 0; i < parameters.size(); i++) {
            ParameterStats p = parameters.get(i);
            ParameterGauges g = gauges[i];
            if (g != null) {
                g.gradNorm = p.gradNorm();
                // max |g| is measured on some steps only: the gauge keeps the last measured value
                if (!Double.isNaN(p.gradMaxAbs())) {
                    g.maxAbs = p.gradMaxAbs();
                }
                if (!Double.isNaN(p.weightNorm())) {
                    g.weightNorm = p.weightNorm();
                }
                if (ratios != null) {
                    g.updateRatio = ratios[i];
                }
            }
        }
    }

    /**
     * The gauges of a step's parameters, in order. The names of one trainable set are the same
     * String instances at every step, so the last lookup is reused without hashing a name.
     */
    private ParameterGauges[] gaugesFor(List<ParameterStats> parameters) {
        String[] names = lastNames;
        boolean same = names.length == parameters.size();
        for (int i = 0; same && i < names.length; i++) {
            same = names[i] == parameters.get(i).name();
        }
        if (!same) {
            names = new String[parameters.size()];
            ParameterGauges[] gauges = new ParameterGauges[names.length];
            for (int i = 0; i < names.length; i++) {
                names[i] = parameters.get(i).name();
                gauges[i] = parameterGauges(names[i]);
            }
            lastNames = names;
            lastGauges = gauges;
        }
        return lastGauges;
    }

    private ParameterGauges parameterGauges(String name) {
        ParameterGauges g = parameters.get(name);
        if (g != null || parameters.containsKey(name)) {
            return g;
        }
        boolean allowed = parameterFilter.matcher(name).matches();
        if (!allowed || parameters.size() - droppedParameters >= maxParameters) {
            if (droppedParameters++ == 0) {
                Console.info("no per-parameter series for " + name + " and any others "
                        + (allowed
                                ? "past max_parameters=" + maxParameters
                                : "not matching parameters=" + parameterFilter)
                        + " (said once); global series still count every parameter");
            }
            parameters.put(name, null);
            return null;
        }
        g = new ParameterGauges();
        Tags p = tags.and("parameter", name);
        gauge("gradguard.grad.norm", "L2 norm of the parameter's gradient, before clipping", g, p, x -> x.gradNorm);
        gauge(
                "gradguard.grad.max.abs",
                "max |g| of the parameter's gradient, before clipping, at the last sampled step",
                g,
                p,
                x -> x.maxAbs);
        gauge("gradguard.param.norm", "L2 norm of the parameter's weights", g, p, x -> x.weightNorm);
        gauge("gradguard.update.ratio", "||dw|| / ||w|| over the last step", g, p, x -> x.updateRatio);
        parameters.put(name, g);
        return g;
    }

    private void gauge(
            String name,
            String help,
            ParameterGauges g,
            Tags p,
            java.util.function.ToDoubleFunction<ParameterGauges> value) {
        Gauge.builder(name, g, value)
                .description(help)
                .tags(p)
                .strongReference(true)
                .register(registry);
    }

    private static final class ParameterGauges {
        volatile double gradNorm = Double.NaN;
        volatile double maxAbs = Double.NaN;
        volatile double weightNorm = Double.NaN;
        volatile double updateRatio = Double.NaN;
    }
}
