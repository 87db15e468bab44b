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
import io.gradguard.core.guard.OffThreadSinks;
import io.gradguard.core.guard.StepEngine;
import io.gradguard.core.guard.StepOutcome;
import io.gradguard.core.guard.SummarySink;
import io.gradguard.core.log.StepLog;
import io.gradguard.core.log.StepLogSink;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetrics;
import io.gradguard.core.recorder.FlightRecorder;
import io.gradguard.core.recorder.IncidentWriter;
import io.gradguard.core.recovery.PoisonedSave;
import io.gradguard.core.shadow.ShadowSink;
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
    /** What the endpoint and the push read; null when neither runs. */
    private final PrometheusMeterRegistry prometheus;
    /** The live page's history; null without an endpoint to show it. */
    private final LiveHistory live;

    private final AgentErrors errors;
    /** Longest the training thread waits, once, for the exporters to start. */
    static final long START_WAIT_MILLIS = 1000;
    /** Longest the shutdown hook waits for the outputs to close (the exit summary comes before). */
    static final long EXIT_WAIT_MILLIS = 8000;

    private final List<MetricsExporter> exporters = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Object startLine = new Object();
    private boolean exportersStarted;
    private boolean startLineSaid;
    private final StepLog stepLog;
    /** The flight recorder's files; null when off. */
    private final IncidentWriter incidents;

    private final PolicyUpdates policyUpdates;
    private final TrainerEngines engines;
    private final Map<String, GradGuardMetrics> metricsByModel = new LinkedHashMap<>();
    private final List<OffThreadSinks> offThreadSinks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final RuntimeException unprotected;

    /**
     * Starts the runtime: reads the settings, says what of them cannot be used, and starts the outputs.
     *
     * @param agentArgs the agent's arguments
     * @param systemProperties the system properties at JVM start
     * @param djl how the start line names the DJL the agent found (version, and whether it is tested)
     */
    public AgentRuntime(String agentArgs, Map<String, String> systemProperties, String djl) {
        // Checked first: a DJL of another shape must cost nothing else (no endpoint, no thread).
        DjlTrainer.requireKnownShape();
        ConfigSources sources = ConfigSources.of(GradGuardSchema.SCHEMA, agentArgs, systemProperties, System.getenv());
        config = ConfigLoader.loadForStart(GradGuardSchema.SCHEMA, sources);
        StartProblems.say(config);
        boolean scraped = config.port() != 0;
        boolean pushed = config.pushgateway() != null && !config.unusable(Part.PUSH);
        OtlpExport otlp = OtlpExport.start(config, System.getenv());
        prometheus = otlp == null || scraped || pushed ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null;
        // Without OTLP the Prometheus registry is the registry, as it always was.
        registry = otlp == null ? prometheus : otlp.registryBeside(prometheus);
        if (otlp != null) {
            exporters.add(otlp);
        }
        live = scraped ? new LiveHistory(LiveHistory.STEPS, config.parameters(), config.maxParameters()) : null;
        errors = new AgentErrors(registry, config.run());
        policyUpdates = new PolicyUpdates(config, sources, registry, errors);
        stepLog = config.unusable(Part.STEP_LOG) ? null : openStepLog(config, errors);
        incidents = IncidentWriter.open(config, errors);
        unprotected = config.protectionAsWrittenFails() && config.get(Keys.FAIL_IF_UNPROTECTED)
                ? new IllegalStateException("gradguard: a protection setting could not be used (said at start) and"
                        + " fail_if_unprotected=true; fix the setting or set fail_if_unprotected=false")
                : null;
        engines = new TrainerEngines(this::newEngine);
        List<String> outputs = startExporters();
        Console.info("watching Trainer.step() of " + djl + "; "
                + (outputs.isEmpty() ? "no metrics endpoint" : String.join("; ", outputs))
                + "; policy " + policyName() + "; run " + config.run());
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "gradguard-shutdown"));
    }

    /**
     * Starts the endpoint and the pushes on a daemon thread: they resolve host names and read the
     * auth file and keystore, none of which may hold the training thread. It waits at most
     * {@link #START_WAIT_MILLIS} for them, once, so the start line can name them; what starts later
     * says its own line when it is up.
     *
     * @return what the start line says of the outputs
     */
    private List<String> startExporters() {
        Runnable starter = () -> {
            ScrapeEndpoint endpoint = live == null ? null : ScrapeEndpoint.start(config, prometheus, live);
            if (endpoint != null) {
                exporters.add(endpoint);
            }
            if (config.pushgateway() != null && !config.unusable(Part.PUSH)) {
                MetricsPush push = MetricsPush.start(
                        config.pushgateway(),
                        config.pushIntervalSeconds(),
                        prometheus.getPrometheusRegistry(),
                        "gradguard",
                        MetricsPush.groupingKey(config.run()),
                        config.get(Keys.PUSH_DELETE_ON_EXIT));
                if (push != null) {
                    exporters.add(push);
                }
            }
            synchronized (startLine) {
                exportersStarted = true;
                if (startLineSaid) {
                    exporters.forEach(e -> Console.info(e.describe()));
                }
            }
        };
        runBounded("gradguard-start", starter, START_WAIT_MILLIS);
        List<String> outputs = new ArrayList<>();
        synchronized (startLine) {
            startLineSaid = true;
            if (exportersStarted) {
                exporters.forEach(e -> outputs.add(e.describe()));
            } else {
                outputs.add("metrics endpoint and pushes still starting (each says when it is up)");
            }
        }
        return outputs;
    }

    @Override
    public void trainerCreated(Object trainer) {
        engines.of((Trainer) trainer);
    }

    @Override
    public Object beforeStep(Object trainer, long enteredNanos) {
        if (unprotected != null) {
            return unprotected;
        }
        try {
            StepOutcome outcome = engines.of((Trainer) trainer).beforeStep(enteredNanos);
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
    public void afterStep(Object trainer, boolean bodyThrew, long enteredNanos) {
        try {
            engines.of((Trainer) trainer).afterStep(bodyThrew, enteredNanos);
        } catch (RuntimeException e) {
            errors.record("step", e);
        }
    }

    @Override
    public void collectorCreated(Object trainer, Object collector, long enteredNanos) {
        engines.collectorCreated((Trainer) trainer, collector).chargeSince(enteredNanos);
    }

    @Override
    public void backward(Object collector, Object target, long enteredNanos) {
        StepEngine engine = engines.forCollector(collector);
        if (engine != null && target instanceof NDArray) {
            engine.onBackward((NDArray) target, enteredNanos);
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
        LiveTrack track = live == null ? null : live.newTrack(model);
        OffThreadSinks offThread = new OffThreadSinks(() -> newSinks(model, track), errors);
        offThreadSinks.add(offThread);
        return new StepEngine(
                DjlTrainer.of(trainer), model, config, policyUpdates.subscriber(), List.of(offThread), errors);
    }

    /** A model's sinks; made off the training thread, at their first delivery. */
    private List<StepSink> newSinks(String model, LiveTrack track) {
        GradGuardMetrics metrics;
        synchronized (metricsByModel) {
            metrics = metricsByModel.computeIfAbsent(
                    model,
                    m -> new GradGuardMetrics(registry, m, config.run(), config.parameters(), config.maxParameters()));
        }
        List<StepSink> sinks = new ArrayList<>();
        sinks.add(metrics);
        sinks.add(new SummarySink(config.summarySeconds()));
        if (stepLog != null) {
            sinks.add(new StepLogSink(stepLog));
        }
        if (track != null) {
            sinks.add(track);
        }
        if (config.get(Keys.SHADOW_POLICIES)) {
            sinks.add(new ShadowSink(registry, model, config, policyUpdates.subscriber()));
        }
        if (incidents != null) {
            sinks.add(new FlightRecorder(
                    registry,
                    model,
                    config,
                    incidents,
                    track == null
                            ? null
                            : n -> track.incident(new LiveHistory.Incident(
                                    n.step(), n.trigger(), n.file().toString(), n.firstOffender()))));
        }
        return sinks;
    }

    private String policyName() {
        return config.unusable(Part.PROTECTION)
                ? "none (NOT PROTECTING: see above)"
                : config.get(io.gradguard.core.policy.ClipPolicies.TYPE);
    }

    /**
     * At JVM exit: one summary line per model first, then the exporters flushed and closed and the
     * step log closed, on a thread of their own that is waited for at most {@link #EXIT_WAIT_MILLIS}:
     * a stalled Pushgateway or step-log reader never holds the JVM's exit.
     */
    private void shutdown() {
        OffThreadSinks.deliverAll(); // the last steps' reports, an incident's among them
        synchronized (metricsByModel) {
            metricsByModel.forEach((model, m) -> Console.info(model + ": " + m.exitSummary()));
        }
        offThreadSinks.stream()
                .mapToDouble(OffThreadSinks::microsPerReport)
                .filter(us -> !Double.isNaN(us))
                .average()
                .ifPresent(us -> Console.info(String.format(
                        java.util.Locale.ROOT, "sinks off the training thread: mean %.1f us per step", us)));
        Runnable closer = () -> {
            policyUpdates.close();
            if (stepLog != null) {
                stepLog.close();
            }
            for (MetricsExporter e : exporters) {
                try {
                    e.flush();
                    e.close();
                } catch (RuntimeException ex) {
                    Console.info("could not close " + e.describe() + ": " + ex);
                }
            }
        };
        if (incidents != null) {
            incidents.close(); // bounded itself; first, as a failing job's incident is the one that matters
        }
        if (!runBounded("gradguard-exit", closer, EXIT_WAIT_MILLIS)) {
            Console.warn("outputs still closing after " + EXIT_WAIT_MILLIS + " ms at exit; not waiting");
        }
    }

    /** Runs {@code body} on a daemon thread of its own and waits for it at most {@code millis}. */
    private static boolean runBounded(String name, Runnable body, long millis) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        try {
            t.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !t.isAlive();
    }

    private static StepLog openStepLog(GradGuardConfig config, AgentErrors errors) {
        if (config.log() == null) {
            return null;
        }
        // Returns at once: the log's own thread opens the file and says in one line if it cannot.
        return StepLog.open(
                config.log(),
                config.logMaxBytes(),
                config.get(Keys.LOG_FOLLOW_SYMLINKS),
                e -> errors.count("step_log"));
    }
}
