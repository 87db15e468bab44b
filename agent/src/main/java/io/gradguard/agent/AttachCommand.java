package io.gradguard.agent;

import com.sun.tools.attach.VirtualMachine;
import java.io.File;

/**
 * The agent jar's command line: {@code <pid> [agent args]} attaches gradguard to a running JVM;
 * {@code report FILE} prints an incident file of the flight recorder and plots it. A command-line
 * tool, so unlike the agent it may print to stdout and exit with a status.
 */
public final class AttachCommand {

    private AttachCommand() {}

    /**
     * Attaches the agent.
     *
     * @param args the target JVM's pid, then optionally the agent arguments; or {@code report FILE}
     * @throws Exception never on the happy path; failures print one line and exit 1 or 2
     */
    public static void main(String[] args) throws Exception {
        if (args.length >= 1 && args[0].equals("report")) {
            // only this command loads the report's classes (and the plotting library)
            System.exit(io.gradguard.agent.report.IncidentReport.run(
                    java.util.Arrays.asList(args).subList(1, args.length), System.out, System.err));
        }
        if (args.length < 1 || args.length > 2 || !args[0].matches("\\d+")) {
            System.err.println(
                    "usage: java -jar gradguard-agent.jar <pid> [key=value,...]   attach gradguard to a running"
                            + " JVM ('help' as the arguments lists the keys)");
            System.err.println("       java -jar gradguard-agent.jar report FILE [--steps N]  print a flight-recorder"
                    + " incident file as a table and write its plot beside it (FILE.png)");
            System.exit(2);
        }
        String jar = new File(AttachCommand.class
                        .getProtectionDomain()
                        .getCodeSource()
                        .getLocation()
                        .toURI())
                .getPath();
        VirtualMachine vm;
        try {
            vm = VirtualMachine.attach(args[0]);
        } catch (Exception e) {
            System.err.println("gradguard: cannot attach to pid " + args[0] + ": " + e.getMessage()
                    + " (is it a JVM of the same user, started without -XX:+DisableAttachMechanism?)");
            System.exit(1);
            return;
        }
        try {
            vm.loadAgent(jar, args.length > 1 ? args[1] : "");
            System.out.println("gradguard attached to pid " + args[0] + "; its stderr says where the metrics are");
        } finally {
            vm.detach();
        }
    }
}
