package io.gradguard.agent.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * HTTPS for the endpoint from a PKCS12 keystore ({@code tls_keystore}) whose password lives in the
 * environment variable named by {@code tls_password_env}, so it never appears in agent args, system
 * properties or {@code ps}. Only TLS 1.3 and 1.2 are offered. A keystore without a private key is
 * refused at start: it would print an {@code https://} line while no handshake could ever succeed.
 *
 * @param context the server's TLS context
 * @param protocols the protocols a connection may use
 */
record EndpointTls(SSLContext context, String[] protocols) {

    private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /**
     * Loads the keystore.
     *
     * @throws IOException if the keystore cannot be read, holds no private key, the variable is
     *     unset or the password is wrong; the caller then serves no endpoint rather than plain HTTP
     */
    static EndpointTls load(Path keystore, String passwordEnv, Map<String, String> environment) throws IOException {
        String password = passwordEnv == null ? null : environment.get(passwordEnv);
        if (password == null) {
            throw new IOException("tls_keystore needs the environment variable named by tls_password_env ("
                    + passwordEnv + "), which is not set");
        }
        char[] secret = password.toCharArray();
        KeyStore store;
        try (InputStream in = Files.newInputStream(keystore)) {
            store = KeyStore.getInstance("PKCS12");
            store.load(in, secret);
        } catch (GeneralSecurityException | IOException e) {
            Arrays.fill(secret, '\0');
            // The JDK's message for a wrong password is "keystore password was incorrect"; keep it.
            throw new IOException("cannot use tls_keystore " + keystore + ": " + e.getMessage(), e);
        }
        try {
            if (!holdsPrivateKey(store)) {
                throw new IOException("tls_keystore " + keystore + " holds no private key (only certificates), so no"
                        + " client could ever complete a handshake; make one with keytool -genkeypair -storetype PKCS12,"
                        + " or import the key with its certificate (openssl pkcs12 -export)");
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, secret);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            List<String> supported =
                    Arrays.asList(context.getSupportedSSLParameters().getProtocols());
            return new EndpointTls(
                    context, PROTOCOLS.stream().filter(supported::contains).toArray(String[]::new));
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use tls_keystore " + keystore + ": " + e.getMessage(), e);
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    private static boolean holdsPrivateKey(KeyStore store) throws GeneralSecurityException {
        for (String alias : Collections.list(store.aliases())) {
            if (store.isKeyEntry(alias) && store.getCertificateChain(alias) != null) {
                return true;
            }
        }
        return false;
    }
}
