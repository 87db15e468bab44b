package io.gradguard.agent.runtime;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The names a request's {@code Host} header may give for this endpoint ({@code host_check}): a
 * page in a browser that rebinds its own DNS name to 127.0.0.1 still sends its own name as the
 * Host, so refusing unknown names keeps such a page from reading the endpoint.
 *
 * <p>Accepted: the loopback names, the configured {@code host} and the address it bound; for a
 * wildcard bind also every address of this machine's interfaces and its host name. Each with the
 * endpoint's port, or without a port.
 */
final class EndpointHosts {

    private final Set<String> names;

    private EndpointHosts(Set<String> names) {
        this.names = Collections.unmodifiableSet(names);
    }

    /**
     * Builds the set; enumerates interfaces and may look up this machine's name, so it runs on the
     * endpoint's start thread, never on a training thread.
     *
     * @param configured the {@code host} setting as written
     * @param bound the address the endpoint binds
     */
    static EndpointHosts of(String configured, InetAddress bound) {
        Set<String> names = new TreeSet<>(Set.of("localhost", "127.0.0.1", "[::1]"));
        names.add(bracketed(configured.toLowerCase(Locale.ROOT)));
        names.add(literal(bound));
        if (bound.isAnyLocalAddress()) {
            try {
                for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                    for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                        names.add(literal(a));
                    }
                }
            } catch (SocketException e) {
                // Without the list, scrapers can still use the loopback names or the configured host.
            }
            names.add(machineName().toLowerCase(Locale.ROOT));
        }
        return new EndpointHosts(names);
    }

    /**
     * Whether a Host header names this endpoint.
     *
     * @param host the header's value; null (an HTTP/1.0 client) is accepted: browsers always send one
     * @param port the port the request arrived on
     */
    boolean accepts(String host, int port) {
        if (host == null) {
            return true;
        }
        String h = host.trim().toLowerCase(Locale.ROOT);
        String name = h;
        String givenPort = null;
        int close = h.lastIndexOf(']');
        int colon = h.lastIndexOf(':');
        if (colon > close && (h.startsWith("[") || h.indexOf(':') == colon)) {
            name = h.substring(0, colon);
            givenPort = h.substring(colon + 1);
        }
        return names.contains(name) && (givenPort == null || givenPort.equals(Integer.toString(port)));
    }

    Set<String> names() {
        return names;
    }

    private static String literal(InetAddress a) {
        String text = a.getHostAddress();
        int zone = text.indexOf('%');
        if (zone >= 0) {
            text = text.substring(0, zone);
        }
        // IPv6 in the compressed form a client writes ("[::1]", not "[0:0:0:0:0:0:0:1]").
        return a instanceof Inet6Address ? "[" + compress(text) + "]" : text;
    }

    private static String bracketed(String host) {
        return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The longest run of zero groups as "::" (RFC 5952), which is what a client writes. */
    static String compress(String full) {
        String[] groups = full.split(":");
        int bestStart = -1;
        int bestLength = 0;
        for (int i = 0; i < groups.length; ) {
            if (groups[i].equals("0")) {
                int j = i;
                while (j < groups.length && groups[j].equals("0")) {
                    j++;
                }
                if (j - i > bestLength && j - i > 1) {
                    bestStart = i;
                    bestLength = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) {
            return full;
        }
        String left = String.join(":", java.util.Arrays.copyOfRange(groups, 0, bestStart));
        String right = String.join(":", java.util.Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
        return left + "::" + right;
    }

    /**
     * This machine's name: {@code HOSTNAME}, else the JDK's (a lookup: call it off the training thread).
     *
     * @return the name, or {@code unknown-host}
     */
    static String machineName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown-host";
        }
    }
}
