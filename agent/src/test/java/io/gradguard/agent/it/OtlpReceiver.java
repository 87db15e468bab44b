package io.gradguard.agent.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A small OTLP/HTTP metrics receiver for tests: a JDK {@code HttpServer} on a free loopback port
 * that decodes every {@code POST /v1/metrics} body as the real {@link ExportMetricsServiceRequest}
 * protobuf (opentelemetry-proto from Maven Central) and answers as a Collector does. With a
 * required {@code Authorization} value it answers 401 to requests without it.
 */
final class OtlpReceiver implements AutoCloseable {

    /** One request as it arrived. */
    record Received(Map<String, String> headers, ExportMetricsServiceRequest request) {

        List<Metric> metrics() {
            List<Metric> all = new ArrayList<>();
            for (ResourceMetrics r : request.getResourceMetricsList()) {
                for (ScopeMetrics s : r.getScopeMetricsList()) {
                    all.addAll(s.getMetricsList());
                }
            }
            return all;
        }

        Metric metric(String name) {
            return metrics().stream()
                    .filter(m -> m.getName().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no metric " + name + " in " + names()));
        }

        List<String> names() {
            return metrics().stream().map(Metric::getName).toList();
        }

        /** The resource attributes of the (single) resource. */
        Map<String, String> resource() {
            return attributes(request.getResourceMetrics(0).getResource().getAttributesList());
        }

        /** The value of the Gauge or Sum data point whose attributes include all of {@code attributes}. */
        double value(String name, Map<String, String> attributes) {
            Metric m = metric(name);
            var points =
                    m.hasSum() ? m.getSum().getDataPointsList() : m.getGauge().getDataPointsList();
            return points.stream()
                    .filter(p -> attributes(p.getAttributesList()).entrySet().containsAll(attributes.entrySet()))
                    .findFirst()
                    .map(p -> p.hasAsDouble() ? p.getAsDouble() : (double) p.getAsInt())
                    .orElseThrow(() -> new AssertionError("no " + name + " point with " + attributes + " in " + m));
        }
    }

    private final HttpServer server;
    private final String requiredAuthorization;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final List<String> refused = new CopyOnWriteArrayList<>();

    private OtlpReceiver(HttpServer server, String requiredAuthorization) {
        this.server = server;
        this.requiredAuthorization = requiredAuthorization;
    }

    /**
     * Starts a receiver on a free loopback port.
     *
     * @param requiredAuthorization the {@code Authorization} value it accepts, or null for any
     */
    static OtlpReceiver start(String requiredAuthorization) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        OtlpReceiver receiver = new OtlpReceiver(server, requiredAuthorization);
        server.createContext("/v1/metrics", receiver::handle);
        server.start();
        return receiver;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/metrics";
    }

    List<Received> received() {
        return List.copyOf(received);
    }

    /** Why requests were refused (wrong method, type, credentials, or a body that does not decode). */
    List<String> refused() {
        return List.copyOf(refused);
    }

    /** Waits until a received request satisfies the condition; returns it. */
    Received await(Predicate<Received> condition, long seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            for (Received r : received) {
                if (condition.test(r)) {
                    return r;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                "no such OTLP request after " + seconds + " s; " + received.size() + " received, refused: " + refused);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange;
                InputStream in = exchange.getRequestBody()) {
            byte[] body = in.readAllBytes();
            Map<String, String> headers = new LinkedHashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            if (!exchange.getRequestMethod().equals("POST")
                    || !"application/x-protobuf".equals(headers.get("content-type"))) {
                refuse(exchange, 400, exchange.getRequestMethod() + " " + headers.get("content-type"));
                return;
            }
            if (requiredAuthorization != null && !requiredAuthorization.equals(headers.get("authorization"))) {
                refuse(exchange, 401, "authorization " + headers.get("authorization"));
                return;
            }
            ExportMetricsServiceRequest request;
            try {
                request = ExportMetricsServiceRequest.parseFrom(body);
            } catch (IOException e) {
                refuse(exchange, 400, "undecodable body: " + e);
                return;
            }
            received.add(new Received(headers, request));
            byte[] answer = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
            exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
            exchange.sendResponseHeaders(200, answer.length == 0 ? -1 : answer.length);
            if (answer.length > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(answer);
                }
            }
        }
    }

    private void refuse(HttpExchange exchange, int status, String why) throws IOException {
        refused.add(status + " " + why);
        byte[] text = "refused by the test receiver".getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, text.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(text);
        }
    }

    static Map<String, String> attributes(List<KeyValue> list) {
        Map<String, String> out = new LinkedHashMap<>();
        for (KeyValue kv : list) {
            AnyValue v = kv.getValue();
            out.put(
                    kv.getKey(),
                    v.hasStringValue() ? v.getStringValue() : v.toString().strip());
        }
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
