package io.gradguard.agent.runtime;

import io.gradguard.bootstrap.GradGuardBridge;
import io.gradguard.core.config.ConfigSources;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.PolicyFileWatcher;
import io.gradguard.core.console.Console;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.policy.ClipPolicies;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Watches the policy file on the agent's own daemon thread ({@code gradguard-config}) and hands
 * each accepted configuration to every trainer's engine through a volatile: an engine's poll, on
 * its training thread, is two volatile reads and never touches the file system, so a file that
 * blocks or a file system that hangs costs training nothing. Exposes {@code
 * gradguard_config_reloads_total{result}} (at 0 when no file is watched, so alerts and dashboards
 * always find the series).
 */
final class PolicyUpdates implements AutoCloseable {

    private final PolicyFileWatcher watcher;
    private final ScheduledExecutorService poller;
    private volatile Accepted latest = new Accepted(null, 0);
    private boolean mended; // the poll thread's alone

    /** The last accepted configuration and its number; replaced whole, so a reader sees a pair. */
    private record Accepted(GradGuardConfig config, long version) {}

    PolicyUpdates(GradGuardConfig config, ConfigSources sources, MeterRegistry registry, AgentErrors errors) {
        watcher = config.configFile() == null ? null : new PolicyFileWatcher(config, sources);
        FunctionCounter.builder(
                        "gradguard.config.reloads", this, u -> u.watcher == null ? 0 : u.watcher.acceptedReloads())
                .description("policy file reloads")
                .tags("run", config.run(), "result", "ok")
                .register(registry);
        FunctionCounter.builder(
                        "gradguard.config.reloads", this, u -> u.watcher == null ? 0 : u.watcher.rejectedReloads())
                .description("policy file reloads")
                .tags("run", config.run(), "result", "rejected")
                .register(registry);
        if (watcher == null) {
            poller = null;
            return;
        }
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "gradguard-config");
            t.setDaemon(true);
            return t;
        });
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        poller = timer;
        long interval = PolicyFileWatcher.DEFAULT_POLL_INTERVAL_MILLIS;
        timer.scheduleWithFixedDelay(
                () -> {
                    try {
                        watcher.poll().ifPresent(c -> {
                            latest = new Accepted(c, latest.version() + 1);
                            sayIfProtectionMended(config, c);
                        });
                    } catch (RuntimeException e) {
                        errors.record("config", e); // a failed poll must not end the schedule
                    }
                },
                interval,
                interval,
                TimeUnit.MILLISECONDS);
    }

    /**
     * A reload whose policy mends what kept the job unprotected at start is said, and the exit
     * then does not repeat the start's warning.
     */
    private void sayIfProtectionMended(GradGuardConfig start, GradGuardConfig accepted) {
        if (!mended
                && start.protectionAsWrittenFails()
                && !start.withPolicyFrom(accepted).protectionAsWrittenFails()) {
            mended = true;
            GradGuardBridge.protectionRestored();
            Console.info("config reload mended the protection setting said at start: the job is protected as configured"
                    + " from now on (policy " + accepted.get(ClipPolicies.TYPE) + ")");
        }
    }

    /** A poller for one engine: it sees each accepted configuration once. */
    Supplier<Optional<GradGuardConfig>> subscriber() {
        long[] seen = {0}; // an engine made after a reload starts from the reloaded policy
        return () -> {
            Accepted a = latest;
            if (a.version() == seen[0]) {
                return Optional.empty();
            }
            seen[0] = a.version();
            return Optional.ofNullable(a.config());
        };
    }

    @Override
    public void close() {
        if (poller != null) {
            poller.shutdownNow();
        }
    }
}
