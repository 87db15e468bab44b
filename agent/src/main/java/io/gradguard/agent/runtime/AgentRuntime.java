package io.gradguard.agent.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.training.Trainer;

import io.gradguard.bootstrap.GradGuardBridge;
import io.gradguard.core.config.ConfigLoader;
import io.gradguard.core.config.ConfigSources;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Keys;
import io.gradguard.core.config.Part;
import io.gradguard.core.console.Console;
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.guard.StepEngine;
import io.gradguard.core.guard.StepOutcome;
import io.gradguard.core.guard.SummarySink;
import io.gradguard.core.log.StepLog;
import io.gradguard.core.log.StepLogSink;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetrics;
import io.gradguard.core.recovery.PoisonedSave;
import io.gradguard.core.step.StepSink;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's runtime, loaded by {@code RuntimeClassLoader} next to the job's DJL: one registry,
 * the exporters, one {@link StepEngine} per trainer. All calls come from the bridge, on the job's
 * training threads.
 */
public final class AgentRuntime implements GradGuardBridge.Hook {

    private final GradGuardConfig config;
    private final MeterRegistry registry;
    private final AgentErrors errors;
    private final List<MetricsExporter> exporters = new ArrayList<>();
    private final StepLog stepLog;
    private final PolicyUpdates policyUpdates;
    private final TrainerEngines engines;
    private final Map<String, GradGuardMetrics> metricsByModel = new LinkedHashMap<>();
    /** The live page's history; null without an endpoint to show it. */
    private final LiveHistory live;
    private final RuntimeException unprotected;

    /**
     * Starts the runtime.
     *
     * @param exportedSources the settings the agent read at start ({@link ConfigSources#export()})
     * @param run the run id the agent resolved at start
     * @param djl how the start line names the DJL the agent found (version, and whether it is tested)
     */
    public AgentRuntime(Map<String, List<String>> exportedSources, String run, String djl) {
        // Checked first: a DJL of another shape must cost nothing else (no endpoint, no thread).
        DjlTrainer.requireKnownShape();
        ConfigSources sources = ConfigSources.restore(GradGuardSchema.SCHEMA, exportedSources, System.getenv());
        config = ConfigLoader.loadForStart(GradGuardSchema.SCHEMA, sources).withRun(run);
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LiveHistory history = new LiveHistory(LiveHistory.STEPS, config.parameters(), config.maxParameters());
        ScrapeEndpoint endpoint = ScrapeEndpoint.start(config, prometheus, history);
        if (endpoint != null) {
            exporters.add(endpoint);
        }
        live = endpoint == null ? null : history;
        if (config.pushgateway() != null && !config.unusable(Part.PUSH)) {
            MetricsPush push = MetricsPush.start(config.pushgateway(), config.pushIntervalSeconds(),
                    prometheus.getPrometheusRegistry(), "gradguard", MetricsPush.groupingKey(config.run()));
            if (push != null) {
                exporters.add(push);
            }
        }
        OtlpExport otlp = OtlpExport.start(config, System.getenv());
        // Without OTLP the Prometheus registry is the registry, as it always was.
        registry = otlp == null ? prometheus : otlp.registryBeside(exporters.isEmpty() ? null : prometheus);
        if (otlp != null) {
            exporters.add(otlp);
        }
        errors = new AgentErrors(registry, config.run());
        policyUpdates = new PolicyUpdates(config, sources, registry);
        stepLog = config.unusable(Part.STEP_LOG) ? null : openStepLog(config);
        unprotected = config.protectionAsWrittenFails() && config.get(Keys.FAIL_IF_UNPROTECTED)
                ? new IllegalStateException("gradguard: a protection setting could not be used (said at start) and"
                        + " fail_if_unprotected=true; fix the setting or set fail_if_unprotected=false")
                : null;
        engines = new TrainerEngines(this::newEngine);
        List<String> outputs = new ArrayList<>();
        exporters.forEach(e -> outputs.add(e.describe()));
        Console.info("watching Trainer.step() of " + djl + "; "
                + (outputs.isEmpty() ? "no metrics endpoint" : String.join("; ", outputs))
                + "; policy " + policyName() + "; run " + config.run());
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "gradguard-shutdown"));
    }

    @Override
    public void trainerCreated(Object trainer) {
        engines.of((Trainer) trainer);
    }

    @Override
    public Object beforeStep(Object trainer) {
        if (unprotected != null) {
            return unprotected;
        }
        try {
            StepOutcome outcome = engines.of((Trainer) trainer).beforeStep();
            if (outcome.failure() != null) {
                return outcome.failure();
            }
            return outcome.runUpdate() ? null : GradGuardBridge.SKIP;
        } catch (RuntimeException e) {
            errors.record("step", e);
            return null;
        }
    }

    @Override
    public void afterStep(Object trainer, boolean bodyThrew) {
        try {
            engines.of((Trainer) trainer).afterStep(bodyThrew);
        } catch (RuntimeException e) {
            errors.record("step", e);
        }
    }

    @Override
    public void collectorCreated(Object trainer, Object collector) {
        engines.collectorCreated((Trainer) trainer, collector);
    }

    @Override
    public void backward(Object collector, Object target) {
        StepEngine engine = engines.forCollector(collector);
        if (engine != null && target instanceof NDArray) {
            engine.onBackward((NDArray) target);
        }
    }

    @Override
    public boolean refuseSave(Object model) {
        try {
            return PoisonedSave.refuse(config, (ai.djl.Model) model);
        } catch (RuntimeException e) {
            errors.record("save_check", e);
            return false; // fail-open: a check that cannot run never stops a save
        }
    }

    private StepEngine newEngine(Trainer trainer, String model) {
        GradGuardMetrics metrics;
        synchronized (metricsByModel) {
            metrics = metricsByModel.computeIfAbsent(model,
                    m -> new GradGuardMetrics(registry, m, config.run(), config.parameters(), config.maxParameters()));
        }
        List<StepSink> sinks = new ArrayList<>();
        sinks.add(metrics);
        sinks.add(new SummarySink(config.summarySeconds()));
        if (stepLog != null) {
            sinks.add(new StepLogSink(stepLog));
        }
        if (live != null) {
            sinks.add(live.newTrack(model));
        }
        return new StepEngine(DjlTrainer.of(trainer), model, config, policyUpdates.subscriber(), sinks, errors);
    }

    private String policyName() {
        return config.unusable(Part.PROTECTION) ? "none (NOT PROTECTING: see above)" : config.get(
                io.gradguard.core.policy.ClipPolicies.TYPE);
    }

    /** At JVM exit: one summary line per model, the exporters flushed and closed, the step log closed. */
    private void shutdown() {
        synchronized (metricsByModel) {
            metricsByModel.forEach((model, m) -> Console.info(model + ": " + m.exitSummary()));
        }
        for (MetricsExporter e : exporters) {
            try {
                e.flush();
                e.close();
            } catch (RuntimeException ex) {
                Console.info("could not close " + e.describe() + ": " + ex);
            }
        }
        if (stepLog != null) {
            stepLog.close();
        }
    }

    private static StepLog openStepLog(GradGuardConfig config) {
        if (config.log() == null) {
            return null;
        }
        try {
            return StepLog.open(config.log(), config.logMaxBytes());
        } catch (java.io.IOException | RuntimeException e) {
            Console.info("step log " + config.log() + " failed: " + e + "; step logging off");
            return null;
        }
    }
}
