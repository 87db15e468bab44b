package io.gradguard.agent.runtime;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;

import io.gradguard.bootstrap.GradGuardBridge;
import io.gradguard.core.config.ConfigLoader;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.guard.StepDecision;
import io.gradguard.core.guard.StepGuard;
import io.gradguard.core.log.StepLog;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The agent's runtime, loaded by {@code RuntimeClassLoader} next to the job's DJL: one registry,
 * one scrape endpoint, one {@link StepGuard} per trainer. All calls come from the bridge, on the
 * job's training threads.
 */
public final class AgentRuntime implements GradGuardBridge.Hook {

    private static final Object SKIP = Boolean.TRUE;

    private final GradGuardConfig config;
    private final PrometheusMeterRegistry registry;
    private final AgentErrors errors;
    private final ScrapeEndpoint endpoint;
    private final MetricsPush push;
    private final StepLog stepLog;
    private final PolicyUpdates policyUpdates;
    private final Map<Trainer, StepGuard> guards = new WeakHashMap<>();
    private final Map<String, GradGuardMetrics> metricsByModel = new HashMap<>();
    private final Field parameterStore;
    private final Field gradientsChecked;

    // The last trainer seen; loss from backward() goes to its guard.
    private Trainer lastTrainer;
    private StepGuard lastGuard;

    /**
     * Starts the runtime.
     *
     * @param agentArgs the agent arguments
     * @param run the run id the agent resolved at start
     * @param djl how the start line names the DJL the agent found (version, and whether it is tested)
     * @throws ReflectiveOperationException if this DJL's Trainer lacks the expected fields
     */
    public AgentRuntime(String agentArgs, String run, String djl) throws ReflectiveOperationException {
        // Checked first: a DJL of another shape must cost nothing else (no endpoint, no thread).
        parameterStore = field("parameterStore");
        gradientsChecked = field("gradientsChecked");
        Map<String, String> props = ConfigLoader.systemProperties();
        config = ConfigLoader.load(agentArgs, props, System.getenv()).withRun(run);
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        errors = new AgentErrors(registry, config.run());
        policyUpdates = new PolicyUpdates(config, agentArgs, props, System.getenv(), registry);
        endpoint = ScrapeEndpoint.start(config, registry);
        push = config.pushgateway() == null
                ? null
                : MetricsPush.start(config.pushgateway(), config.pushIntervalSeconds(), registry.getPrometheusRegistry(),
                        "gradguard", MetricsPush.groupingKey(config.run()));
        stepLog = openStepLog(config);
        System.err.println(
                "[gradguard] watching Trainer.step() of "
                        + djl
                        + "; "
                        + (endpoint == null ? "no metrics endpoint" : "metrics at " + endpoint.url())
                        + "; policy "
                        + config.policy().type()
                        + "; run "
                        + config.run());
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "gradguard-shutdown"));
    }

    @Override
    public void trainerCreated(Object trainer) {
        // The runtime (and the endpoint) exists as soon as the first trainer does; guards are
        // created at the first step, when the block's parameters are initialized.
    }

    @Override
    public Object beforeStep(Object trainer) {
        StepGuard guard = guard((Trainer) trainer);
        if (guard == null) {
            return null;
        }
        try {
            ParameterStore store = (ParameterStore) parameterStore.get(trainer);
            boolean checked = gradientsChecked.getBoolean(trainer);
            StepDecision decision = guard.beforeStep(store, checked);
            switch (decision) {
                case SKIP:
                    return SKIP;
                case FAIL:
                    return guard.failure();
                default:
                    return null;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            errors.record("step", e);
            return null;
        }
    }

    @Override
    public void afterStep(Object trainer, Object decision) {
        StepGuard guard = guard((Trainer) trainer);
        if (guard != null) {
            StepDecision d =
                    decision == null
                            ? StepDecision.PROCEED
                            : decision instanceof Throwable ? StepDecision.FAIL : StepDecision.SKIP;
            try {
                guard.afterStep(d);
            } catch (RuntimeException e) {
                errors.record("step", e);
            }
        }
    }

    @Override
    public void backward(Object target) {
        StepGuard guard = lastGuard;
        if (guard != null && target instanceof NDArray) {
            try {
                guard.onBackward((NDArray) target);
            } catch (RuntimeException e) {
                errors.record("loss", e);
            }
        }
    }

    private StepGuard guard(Trainer trainer) {
        if (trainer == lastTrainer) {
            return lastGuard;
        }
        synchronized (guards) {
            StepGuard guard = guards.get(trainer);
            if (guard == null) {
                try {
                    guard = newGuard(trainer);
                } catch (RuntimeException e) {
                    errors.record("setup", e);
                    return null;
                }
                guards.put(trainer, guard);
            }
            lastTrainer = trainer;
            lastGuard = guard;
            return guard;
        }
    }

    private StepGuard newGuard(Trainer trainer) {
        String model = trainer.getModel().getName();
        GradGuardMetrics metrics =
                metricsByModel.computeIfAbsent(
                        model,
                        m -> new GradGuardMetrics(registry, m, config.run(), config.parameters(), config.maxParameters()));
        return new StepGuard(trainer, config, metrics, errors, policyUpdates.subscriber(), stepLog);
    }

    /** At JVM exit: the last push, the step log closed, one summary line; then the endpoint goes. */
    private void shutdown() {
        synchronized (guards) {
            metricsByModel.forEach((model, m) -> System.err.println("[gradguard] " + model + ": " + m.exitSummary()));
        }
        if (push != null) {
            push.close();
        }
        if (stepLog != null) {
            stepLog.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    private static StepLog openStepLog(GradGuardConfig config) {
        if (config.log() == null) {
            return null;
        }
        try {
            return StepLog.open(config.log(), config.logMaxBytes());
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("[gradguard] step log " + config.log() + " failed: " + e + "; step logging off");
            return null;
        }
    }

    private static Field field(String name) throws NoSuchFieldException {
        try {
            Field f = Trainer.class.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new NoSuchFieldException(
                    "ai.djl.training.Trainer has no field '" + name + "' in DJL " + djlVersion());
        }
    }

    private static String djlVersion() {
        try {
            return Engine.getDjlVersion();
        } catch (LinkageError | RuntimeException e) {
            return "(version unknown)";
        }
    }

}
