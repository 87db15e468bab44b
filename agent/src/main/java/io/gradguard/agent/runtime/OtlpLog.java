package io.gradguard.agent.runtime;

import io.gradguard.core.console.Console;
import io.micrometer.common.util.internal.logging.InternalLogLevel;
import io.micrometer.common.util.internal.logging.InternalLogger;
import io.micrometer.common.util.internal.logging.InternalLoggerFactory;
import io.micrometer.common.util.internal.logging.JdkLoggerFactory;
import io.micrometer.common.util.internal.logging.Slf4JLoggerFactory;
import io.micrometer.core.instrument.push.PushMeterRegistry;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where the OTLP registry's own log lines go. Micrometer logs every failed export as a warning
 * with a stack trace, at every interval, into the job's logging (SLF4J or java.util.logging);
 * this sends them to the agent's {@link Console} instead, one line per kind of failure (HTTP 401,
 * connection refused, ...) as the Pushgateway push does, and drops the registry's debug and
 * info lines (the agent's start line says where the metrics go).
 *
 * <p>In the agent jar Micrometer is relocated, so this factory replaces the default of the
 * agent's own copy only, never the job's Micrometer. Every other logger is made exactly as
 * Micrometer's default factory makes it.
 */
final class OtlpLog extends InternalLoggerFactory {

    private static final String OTLP_PACKAGE = OtlpMeterRegistry.class.getPackageName() + ".";
    private static final String PUSH_REGISTRY = PushMeterRegistry.class.getName();
    private static final int BODY_SHOWN = 200;

    private final InternalLoggerFactory previous;
    private final String target;

    private OtlpLog(InternalLoggerFactory previous, String target) {
        this.previous = previous;
        this.target = target;
    }

    /**
     * Installs the factory; must run before the OTLP registry's classes are first used, since the
     * push registry keeps its logger in a static field.
     *
     * @param target the receiver as lines name it
     */
    static synchronized void install(String target) {
        InternalLoggerFactory current = InternalLoggerFactory.getDefaultFactory();
        if (!(current instanceof OtlpLog)) {
            InternalLoggerFactory.setDefaultFactory(new OtlpLog(current, target));
        }
    }

    @Override
    protected InternalLogger newInstance(String name) {
        if (name.startsWith(OTLP_PACKAGE) || name.equals(PUSH_REGISTRY)) {
            return (InternalLogger) Proxy.newProxyInstance(
                    OtlpLog.class.getClassLoader(),
                    new Class<?>[] {InternalLogger.class},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "name", "toString" -> name;
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        case "isWarnEnabled", "isErrorEnabled" -> true;
                        case "isTraceEnabled", "isDebugEnabled", "isInfoEnabled" -> false;
                        case "isEnabled" -> loud(args[0]);
                        case "warn", "error" -> say(args);
                        case "log" -> loud(args[0]) ? say(Arrays.copyOfRange(args, 1, args.length)) : null;
                        default -> null; // trace, debug, info
                    });
        }
        // Micrometer's default is one of these two; their newInstance is public.
        if (previous instanceof Slf4JLoggerFactory slf4j) {
            return slf4j.newInstance(name);
        }
        return ((JdkLoggerFactory) (previous instanceof JdkLoggerFactory ? previous : JdkLoggerFactory.INSTANCE))
                .newInstance(name);
    }

    private static boolean loud(Object level) {
        return level == InternalLogLevel.WARN || level == InternalLogLevel.ERROR;
    }

    /** One line per kind: the same failure at every interval is said once. */
    private Object say(Object[] args) {
        List<Object> all = new ArrayList<>();
        for (Object a : args == null ? new Object[0] : args) {
            if (a instanceof Object[] varargs) {
                all.addAll(Arrays.asList(varargs));
            } else {
                all.add(a);
            }
        }
        String format = !all.isEmpty() && all.get(0) instanceof String s ? s : "";
        Throwable error = null;
        Integer status = null;
        String body = "";
        for (Object a : all.subList(Math.min(1, all.size()), all.size())) {
            if (a instanceof Throwable t) {
                error = t;
            } else if (a instanceof Integer code && status == null) {
                status = code;
            } else if (status != null && a != null) {
                body = String.valueOf(a).strip();
            }
        }
        if (status != null) {
            String shown = body.length() > BODY_SHOWN ? body.substring(0, BODY_SHOWN) + "..." : body;
            failed("http " + status, "HTTP " + status + (shown.isEmpty() ? "" : ": " + shown.replaceAll("\\s+", " ")));
        } else if (error != null) {
            Throwable root = error;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            failed(root.getClass().getName(), String.valueOf(root));
        } else {
            Console.once("otlp-note " + format, "OTLP exporter: " + format.replace("{}", "?"));
        }
        return null;
    }

    private void failed(String kind, String detail) {
        Console.once(
                "otlp-failure " + kind,
                "OTLP export to " + target + " failed (" + kind + "): " + detail
                        + "; retrying at each interval, said once per kind of failure");
    }
}
