package io.gradguard.agent.runtime;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A response body as it goes on the wire: fixed length, chunked, or none; a body that overruns or
 * falls short of its length makes the connection unusable for another request.
 */
final class EndpointResponseBody extends OutputStream {

    private static final byte[] CRLF = {'\r', '\n'};
    private boolean started;
    private boolean discard;
    private boolean chunked;
    private long remaining = -1; // fixed length: bytes still expected
    private boolean done;
    private final OutputStream connectionOut;
    private final Runnable noReuse;

    /**
     * @param connectionOut the connection's stream
     * @param noReuse called when the connection must not carry another request
     */
    EndpointResponseBody(OutputStream connectionOut, Runnable noReuse) {
        this.connectionOut = connectionOut;
        this.noReuse = noReuse;
    }

    void fixed(long length, boolean headRequest) {
        started = true;
        remaining = length;
        discard = headRequest;
    }

    void chunked() {
        started = true;
        chunked = true;
    }

    void none() {
        started = true;
        discard = true;
        remaining = 0;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int off, int len) throws IOException {
        if (!started) {
            throw new IOException("sendResponseHeaders must come before the body");
        }
        if (done) {
            throw new IOException("response body already closed");
        }
        if (discard || len == 0) {
            return;
        }
        if (chunked) {
            connectionOut.write(Integer.toHexString(len).getBytes(StandardCharsets.US_ASCII));
            connectionOut.write(CRLF);
            connectionOut.write(bytes, off, len);
            connectionOut.write(CRLF);
            return;
        }
        if (len > remaining) {
            noReuse.run();
            throw new IOException("response body longer than its Content-Length");
        }
        connectionOut.write(bytes, off, len);
        remaining -= len;
    }

    @Override
    public void flush() throws IOException {
        connectionOut.flush();
    }

    @Override
    public void close() throws IOException {
        if (done || !started) {
            return;
        }
        done = true;
        if (chunked) {
            connectionOut.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        } else if (!discard && remaining > 0) {
            noReuse.run(); // cut short: the client cannot tell where this response ends
        }
        connectionOut.flush();
    }
}
