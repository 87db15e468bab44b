package io.gradguard.agent.it;

import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an open live page asks of a job: {@code /api/steps} once in full, then
 * {@code ?after=...} every 250 ms, each step once. For the benchmark and the endpoint load test.
 */
public final class LivePagePoller implements AutoCloseable {

    private static final Pattern TRACK = Pattern.compile("\"id\":(\\d+),.*?\"rows\":\\{\"step\":\\[([0-9,]*)]");

    private final Thread thread;
    private final AtomicLong polls = new AtomicLong();
    private final AtomicLong rows = new AtomicLong();
    private volatile boolean stop;
    private volatile String after;

    private LivePagePoller(int port, String after) {
        this.after = after;
        thread = new Thread(() -> run(port), "live-page-poller");
        thread.setDaemon(true);
    }

    /**
     * Starts polling on a daemon thread.
     *
     * @param port the job's endpoint port
     * @return the poller
     */
    public static LivePagePoller start(int port) {
        return start(port, "");
    }

    /**
     * Goes on where another poller stopped, as one page left open would.
     *
     * @param port the job's endpoint port
     * @param after the {@link #cursor()} of the poller before
     * @return the poller
     */
    public static LivePagePoller start(int port, String after) {
        LivePagePoller p = new LivePagePoller(port, after);
        p.thread.start();
        return p;
    }

    /** @return the query that asks for the steps after those received */
    public String cursor() {
        return after;
    }

    private void run(int port) {
        while (!stop) {
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/api/steps" + after)
                        .toURL()
                        .openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(5000);
                if (c.getResponseCode() == 200) {
                    String body;
                    try (InputStream in = c.getInputStream()) {
                        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    }
                    polls.incrementAndGet();
                    Matcher m = TRACK.matcher(body);
                    if (m.find() && !m.group(2).isEmpty()) {
                        String[] steps = m.group(2).split(",");
                        rows.addAndGet(steps.length);
                        after = "?after=" + m.group(1) + ":" + steps[steps.length - 1];
                    }
                }
            } catch (java.io.IOException e) {
                // the job is not listening yet, or has ended: ask again at the next tick
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** @return polls answered with 200 */
    public long polls() {
        return polls.get();
    }

    /** @return step rows received */
    public long rows() {
        return rows.get();
    }

    /** Stops polling. */
    @Override
    public void close() {
        stop = true;
        thread.interrupt();
    }
}
