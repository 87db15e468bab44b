package io.gradguard.agent.jobs;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * The class path a DJL job started by a test or benchmark gets: the test class path without the
 * agent's own unshaded classes and libraries, which a real job does not have and which would shadow
 * the agent jar's.
 */
public final class JobClassPath {

    private JobClassPath() {}

    /**
     * @param fullClassPath the test or benchmark JVM's class path
     * @return the same entries, less the agent's classes, core and their libraries
     */
    public static String withoutAgent(String fullClassPath) {
        List<String> kept = new ArrayList<>();
        for (String entry : fullClassPath.split(File.pathSeparator)) {
            String e = entry.replace('\\', '/').replaceAll("/+$", "");
            boolean agentPart = e.endsWith("/agent/target/classes")
                    || e.endsWith("/core/target/classes")
                    || e.contains("gradguard-core")
                    || e.contains("/gradguard-agent-")
                    || e.contains("/org/ow2/asm/")
                    || e.contains("/io/micrometer/")
                    || e.contains("/io/prometheus/")
                    || e.contains("/org/yaml/")
                    || e.contains("HdrHistogram")
                    || e.contains("LatencyUtils");
            if (!agentPart) {
                kept.add(entry);
            }
        }
        return String.join(File.pathSeparator, kept);
    }
}
