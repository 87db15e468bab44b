package io.gradguard.agent.runtime;

import com.sun.net.httpserver.HttpContext;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Keys;
import io.gradguard.core.config.Part;
import io.gradguard.core.console.Console;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.httpserver.HealthyHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The Prometheus scrape endpoint ({@code /metrics}, {@code /-/healthy}) and the live page ({@code /},
 * its files and {@code /api/steps}: {@link LivePage}, {@link LiveSteps}): client_java's handlers on
 * {@link EndpointServer}, which bounds what a client can hold (connections, time, bytes). Every
 * request passes {@link EndpointRequestFilter}: GET and HEAD only, no bodies, the Host check, exact
 * paths, optional basic auth. Nothing the endpoint receives changes anything in the job.
 *
 * <p>Started off the training thread (it resolves {@code host} and reads the auth file and
 * keystore). Binds {@code 127.0.0.1} unless {@code host} says otherwise, and warns when that is
 * anything other machines may reach. A port held by someone else is said loudly: scrapers of it
 * read that program, not this job. If the endpoint cannot start, one line says why and monitoring
 * goes on without it.
 */
final class ScrapeEndpoint implements MetricsExporter {

    /** {@code port=auto}: 9404, or the next free port above it. */
    static final int AUTO = Keys.AUTO_PORT;

    private static final int DEFAULT_PORT = 9404;
    private static final int AUTO_TRIES = 50;
    private static final int BACKLOG = 64;
    private static final int PROBE_TIMEOUT_MILLIS = 1000;

    private final EndpointServer server;
    private final String scheme;
    private final String host;

    private ScrapeEndpoint(EndpointServer server, String scheme, String host) {
        this.server = server;
        this.scheme = scheme;
        this.host = host;
    }

    /** Starts the endpoint, or says in one line why not and returns null: monitoring goes on. */
    static ScrapeEndpoint start(GradGuardConfig config, PrometheusMeterRegistry registry, LiveHistory live) {
        if (config.port() == 0) {
            return null;
        }
        if (config.unusable(Part.ENDPOINT)) {
            // Fail closed: a broken auth_file or keystore means no endpoint, never an open one.
            Console.info("no metrics endpoint: an endpoint setting could not be used (said above);"
                    + " monitoring and policies go on");
            return null;
        }
        String bareHost = bare(config.host());
        EndpointCredentials credentials;
        EndpointTls tls;
        InetAddress address;
        try {
            // Fail closed: a broken auth_file or keystore means no endpoint, never an open one.
            credentials = config.authFile() == null ? null : EndpointCredentials.read(config.authFile());
            tls = config.tlsKeystore() == null
                    ? null
                    : EndpointTls.load(config.tlsKeystore(), config.tlsPasswordEnv(), System.getenv());
            address = InetAddress.getByName(bareHost);
        } catch (IOException | RuntimeException e) {
            Console.info("no metrics endpoint: " + e.getMessage() + "; monitoring and policies go on");
            return null;
        }
        EndpointHosts hosts = config.get(Keys.HOST_CHECK) ? EndpointHosts.of(config.host(), address) : null;
        EndpointRequestFilter filter = new EndpointRequestFilter(credentials, hosts);
        boolean auto = config.port() == AUTO;
        int first = auto ? DEFAULT_PORT : config.port();
        int last = auto ? DEFAULT_PORT + AUTO_TRIES : first;
        String holder = null;
        for (int port = first; port <= last; port++) {
            try {
                ScrapeEndpoint endpoint = bind(
                        new InetSocketAddress(address, port),
                        tls,
                        filter,
                        registry,
                        bareHost,
                        new LiveSteps(live, config.run()));
                warnIfReachable(config.host(), address, port, credentials != null, tls != null);
                if (holder != null) {
                    sayHeld(
                            config.host(),
                            first,
                            holder,
                            "This job's endpoint is at " + endpoint.url() + "metrics"
                                    + " instead; scrapers still pointed at port " + first + " read the other program.");
                }
                return endpoint;
            } catch (BindException e) {
                if (port == first) {
                    holder = holderOf(address, port, bareHost);
                }
                if (port == last) {
                    if (holder != null && !auto) {
                        sayHeld(
                                config.host(),
                                first,
                                holder,
                                "This job has no metrics endpoint: choose a free port, or" + " port=auto.");
                    }
                    Console.info("port " + (auto ? first + "-" + last : String.valueOf(port)) + " on " + config.host()
                            + " is in use: no metrics endpoint (set port=auto or another port);"
                            + " monitoring and policies go on");
                }
            } catch (IOException | RuntimeException e) {
                Console.info("no metrics endpoint (" + e + "); monitoring and policies go on");
                return null;
            }
        }
        return null;
    }

    @Override
    public String describe() {
        return "metrics at " + url() + "metrics; live page at " + url();
    }

    /** The endpoint's root, e.g. {@code http://127.0.0.1:9404/}. */
    String url() {
        String shown = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return scheme + "://" + shown + ":" + server.getAddress().getPort() + "/";
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** {@code host} without the brackets an IPv6 literal may be written with. */
    static String bare(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** Every context, one place, each behind the same filter. */
    private static ScrapeEndpoint bind(
            InetSocketAddress address,
            EndpointTls tls,
            EndpointRequestFilter filter,
            PrometheusMeterRegistry registry,
            String host,
            LiveSteps liveSteps)
            throws IOException {
        EndpointServer server =
                new EndpointServer(tls == null ? null : tls.context(), tls == null ? null : tls.protocols());
        server.bind(address, BACKLOG);
        guarded(server.createContext("/metrics", new EndpointMetricsCache(registry)), filter);
        guarded(server.createContext("/-/healthy", new HealthyHandler()), filter);
        LivePage page = new LivePage();
        for (String path : LivePage.paths()) {
            guarded(server.createContext(path, page), filter); // one exact context per file the page serves
        }
        guarded(server.createContext("/api/steps", liveSteps), filter);
        server.start();
        return new ScrapeEndpoint(server, tls == null ? "http" : "https", host);
    }

    private static void guarded(HttpContext context, EndpointRequestFilter filter) {
        context.getFilters().add(filter);
    }

    /** Any address other than loopback may be reached from elsewhere: said at every start. */
    private static void warnIfReachable(String host, InetAddress address, int port, boolean auth, boolean tls) {
        if (address.isLoopbackAddress()) {
            return;
        }
        String where = address.isAnyLocalAddress()
                ? "ALL interfaces (host=" + host + ", port " + port + ")"
                : address.getHostAddress() + " (host=" + host + ", port " + port + "), which other machines may reach";
        Console.warn("metrics endpoint listening on " + where + ": anyone who can reach this machine can read it"
                + (auth ? "" : ", without a password") + (tls ? "" : ", over plain HTTP")
                + "; set host=127.0.0.1 to keep it local");
    }

    /**
     * Who holds the port, asked over plain HTTP with short timeouts: null when it answers as a
     * gradguard endpoint (another job of this machine; said in a plain line), else what it did.
     */
    private static String holderOf(InetAddress address, int port, String host) {
        InetAddress target = address.isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : address;
        String answer;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(target, port), PROBE_TIMEOUT_MILLIS);
            s.setSoTimeout(PROBE_TIMEOUT_MILLIS);
            String shown = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
            s.getOutputStream()
                    .write(("GET /metrics HTTP/1.0\r\nHost: " + shown + ":" + port + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            answer = new String(in.readNBytes(64 * 1024), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "it did not answer an HTTP request (" + e.getClass().getSimpleName() + ")";
        }
        boolean gradguard = answer.contains("\ngradguard_steps_total")
                || (answer.startsWith("HTTP/1.1 401") && answer.contains("realm=\"gradguard\""));
        if (gradguard) {
            Console.info("port " + port + " on " + host + " is held by another gradguard endpoint (another job on this"
                    + " machine?)");
            return null;
        }
        int eol = answer.indexOf('\r');
        String status = eol > 0 ? answer.substring(0, Math.min(eol, 60)) : "no HTTP status line";
        return "it answered " + status.replaceAll("[^\\x20-\\x7e]", "?") + ", without gradguard's series";
    }

    private static void sayHeld(String host, int port, String holder, String consequence) {
        Console.loud(
                "Port " + port + " on " + host + " is held by a program that is NOT gradguard: " + holder + ".",
                "Scrapers of " + host + ":" + port + " read THAT program's data, not this job's.",
                consequence,
                "Find the holder with: ss -ltnp 'sport = :" + port + "'. See docs/operating.md, port squatting.");
    }
}
