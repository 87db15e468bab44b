package io.gradguard.core.config;
// TEMPORARY compile stub in main; replaced at merge.
public final class ConfigLoader {
    public static String helpText() { return "help"; }
    public static GradGuardConfig load(String args, java.util.Map<String, String> p, java.util.Map<String, String> e) {
        java.util.Map<String, String> m = new java.util.HashMap<>();
        if (args != null && !args.isBlank()) for (String kv : args.split(",")) { String[] x = kv.split("=", 2); m.put(x[0].trim(), x.length > 1 ? x[1].trim() : ""); }
        return new GradGuardConfig(Integer.parseInt(m.getOrDefault("port", "9404")), m.getOrDefault("host", "127.0.0.1"), m.getOrDefault("run", "r1"),
            java.util.regex.Pattern.compile(m.getOrDefault("parameters", ".*")), 500, Integer.parseInt(m.getOrDefault("summary", "10")), 1,
            PolicyConfig.defaults(m.getOrDefault("policy.type", "none")), NonFiniteAction.SKIP, 0, false, DetectorConfig.defaults(), null);
    }
}
