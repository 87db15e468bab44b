package io.gradguard.agent.runtime;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * HTTPS for the endpoint from a PKCS12 keystore ({@code tls_keystore}) whose password lives in the
 * environment variable named by {@code tls_password_env}, so it never appears in agent args, system
 * properties or {@code ps}. Only TLS 1.3 and 1.2 are offered.
 */
final class EndpointTls {

    private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    private EndpointTls() {}

    /**
     * Loads the keystore and returns a configurator for the JDK's {@code HttpsServer}.
     *
     * @throws IOException if the keystore cannot be read, the variable is unset or the password is
     *     wrong; the caller then serves no endpoint rather than falling back to plain HTTP
     */
    static HttpsConfigurator configurator(Path keystore, String passwordEnv, Map<String, String> environment)
            throws IOException {
        String password = passwordEnv == null ? null : environment.get(passwordEnv);
        if (password == null) {
            throw new IOException("tls_keystore needs the environment variable named by tls_password_env ("
                    + passwordEnv + "), which is not set");
        }
        char[] secret = password.toCharArray();
        try (InputStream in = Files.newInputStream(keystore)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, secret);
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, secret);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return new ModernProtocolsOnly(context);
        } catch (GeneralSecurityException | IOException e) {
            // The JDK's message for a wrong password is "keystore password was incorrect"; keep it.
            throw new IOException("cannot use tls_keystore " + keystore + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    /** Restricts every connection to the protocols above that this JDK supports. */
    private static final class ModernProtocolsOnly extends HttpsConfigurator {

        ModernProtocolsOnly(SSLContext context) {
            super(context);
        }

        @Override
        public void configure(HttpsParameters params) {
            SSLParameters ssl = getSSLContext().getDefaultSSLParameters();
            List<String> supported = Arrays.asList(getSSLContext().getSupportedSSLParameters().getProtocols());
            ssl.setProtocols(PROTOCOLS.stream().filter(supported::contains).toArray(String[]::new));
            params.setSSLParameters(ssl);
        }
    }
}
