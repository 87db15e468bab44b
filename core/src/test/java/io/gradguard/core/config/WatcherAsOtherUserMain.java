package io.gradguard.core.config;

import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.policy.ClipPolicies;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * A child process for {@code PolicyFileWatcherTest}, run as an unprivileged user so that file
 * permissions apply to it: watches the file in args[0] and answers each {@code poll} line on stdin
 * with the policy type a poll returned ({@code -} for none) and the rejections so far.
 */
public final class WatcherAsOtherUserMain {

    private WatcherAsOtherUserMain() {}

    public static void main(String[] args) throws Exception {
        String agentArgs = "config=" + args[0];
        GradGuardConfig start = GradGuardSchema.load(agentArgs, Map.of(), Map.of());
        PolicyFileWatcher watcher = new PolicyFileWatcher(
                start,
                ConfigSources.of(GradGuardSchema.SCHEMA, agentArgs, Map.of(), Map.of()),
                0,
                System::nanoTime,
                System.err);
        System.out.println("ready " + start.get(ClipPolicies.TYPE));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            Optional<GradGuardConfig> next = watcher.poll();
            System.out.println(
                    next.map(c -> c.get(ClipPolicies.TYPE)).orElse("-") + " rejected=" + watcher.rejectedReloads());
        }
    }
}
