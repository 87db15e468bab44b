package io.gradguard.agent.runtime;

import io.gradguard.core.config.ConfigSources;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.PolicyFileWatcher;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * Fans the policy-file watcher out to every trainer's engine: each engine polls on its own
 * training thread and sees each accepted reload once. Exposes {@code
 * gradguard_config_reloads_total{result}} (at 0 when no file is watched, so alerts and dashboards
 * always find the series).
 */
final class PolicyUpdates {

    private final PolicyFileWatcher watcher;
    private volatile GradGuardConfig latest;
    private volatile long version;

    PolicyUpdates(GradGuardConfig config, ConfigSources sources, MeterRegistry registry) {
        watcher = config.configFile() == null ? null : new PolicyFileWatcher(config, sources);
        FunctionCounter.builder("gradguard.config.reloads", this, u -> u.watcher == null ? 0 : u.watcher.acceptedReloads())
                .description("policy file reloads")
                .tags("run", config.run(), "result", "ok")
                .register(registry);
        FunctionCounter.builder("gradguard.config.reloads", this, u -> u.watcher == null ? 0 : u.watcher.rejectedReloads())
                .description("policy file reloads")
                .tags("run", config.run(), "result", "rejected")
                .register(registry);
    }

    /** A poller for one engine. */
    Supplier<Optional<GradGuardConfig>> subscriber() {
        long[] seen = {version};
        return () -> {
            if (watcher != null) {
                synchronized (this) {
                    watcher.poll().ifPresent(c -> {
                        latest = c;
                        version++;
                    });
                }
            }
            if (seen[0] == version) {
                return Optional.empty();
            }
            seen[0] = version;
            return Optional.ofNullable(latest);
        };
    }
}
