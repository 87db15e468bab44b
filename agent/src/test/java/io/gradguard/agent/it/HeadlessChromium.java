package io.gradguard.agent.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.devtools.DevTools;
import org.openqa.selenium.devtools.v156.log.Log;
import org.openqa.selenium.devtools.v156.log.model.LogEntry;
import org.openqa.selenium.devtools.v156.runtime.Runtime;
import org.openqa.selenium.devtools.v156.runtime.model.ConsoleAPICalled;
import org.openqa.selenium.devtools.v156.runtime.model.RemoteObject;

/**
 * Debian's Chromium, headless, driven through Debian's {@code /usr/bin/chromedriver} (no driver or
 * browser is downloaded), with every console error, uncaught exception and failed load the page
 * causes collected over the DevTools protocol from before the first navigation.
 */
public final class HeadlessChromium implements AutoCloseable {

    static final String DRIVER = "/usr/bin/chromedriver";
    /** The browser itself: /usr/bin/chromium is a wrapper script around it. */
    static final String BROWSER = Files.isExecutable(Path.of("/usr/lib/chromium/chromium"))
            ? "/usr/lib/chromium/chromium"
            : "/usr/bin/chromium";

    /** The driver, for navigation and scripts. */
    public final ChromeDriver driver;

    private final DevTools devTools;
    private final Path profile;
    private final List<String> errors = Collections.synchronizedList(new ArrayList<>());

    private HeadlessChromium(ChromeDriver driver, DevTools devTools, Path profile) {
        this.driver = driver;
        this.devTools = devTools;
        this.profile = profile;
    }

    /**
     * Starts the browser with a window of the given size (CSS pixels) and a fresh profile.
     *
     * @param width window width
     * @param height window height
     * @return the browser
     * @throws IOException when no profile directory can be made
     */
    public static HeadlessChromium start(int width, int height) throws IOException {
        if (!Files.isExecutable(Path.of(DRIVER)) || !Files.isExecutable(Path.of(BROWSER))) {
            throw new AssertionError(DRIVER + " or " + BROWSER + " is missing: run ./gradguard setup"
                    + " (it installs Debian's chromium and chromium-driver)");
        }
        Path profile = Files.createTempDirectory("gradguard-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BROWSER);
        // As root, in a container: no sandbox; nothing but the page under test reaches the network.
        options.addArguments(
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                "--window-size=" + width + "," + height,
                "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(DRIVER))
                .usingAnyFreePort()
                .build();
        ChromeDriver driver = new ChromeDriver(service, options);
        try {
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30)).scriptTimeout(Duration.ofSeconds(10));
            driver.manage().window().setSize(new Dimension(width, height));
            DevTools devTools = driver.getDevTools();
            devTools.createSession();
            HeadlessChromium chromium = new HeadlessChromium(driver, devTools, profile);
            chromium.listen();
            return chromium;
        } catch (RuntimeException e) {
            driver.quit();
            throw e;
        }
    }

    private void listen() {
        devTools.send(Runtime.enable());
        devTools.send(Log.enable());
        devTools.addListener(Runtime.consoleAPICalled(), call -> {
            if (call.getType() == ConsoleAPICalled.Type.ERROR || call.getType() == ConsoleAPICalled.Type.ASSERT) {
                StringBuilder text = new StringBuilder("console." + call.getType() + ":");
                for (RemoteObject arg : call.getArgs()) {
                    text.append(' ')
                            .append(arg.getValue()
                                    .map(String::valueOf)
                                    .orElse(arg.getDescription().orElse("?")));
                }
                errors.add(text.toString());
            }
        });
        devTools.addListener(
                Runtime.exceptionThrown(),
                thrown -> errors.add("uncaught: "
                        + thrown.getExceptionDetails().getText() + " "
                        + thrown.getExceptionDetails()
                                .getException()
                                .flatMap(RemoteObject::getDescription)
                                .orElse("")
                        + " at " + thrown.getExceptionDetails().getUrl().orElse("?") + ":"
                        + thrown.getExceptionDetails().getLineNumber()));
        // Failed loads, CSP violations and the browser's own errors about the page arrive here.
        devTools.addListener(Log.entryAdded(), entry -> {
            if (entry.getLevel() == LogEntry.Level.ERROR) {
                errors.add(entry.getSource() + ": " + entry.getText() + " "
                        + entry.getUrl().orElse(""));
            }
        });
    }

    /** @return errors the page caused so far, in the order they came */
    public List<String> errors() {
        synchronized (errors) {
            return List.copyOf(errors);
        }
    }

    /**
     * Runs a script in the page.
     *
     * @param js the script's body
     * @param args its {@code arguments}
     * @return what it returned
     */
    public Object script(String js, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(js, args);
    }

    /**
     * Polls until the condition holds, or fails saying what was waited for and the errors seen.
     *
     * @param what what is waited for
     * @param seconds how long at most
     * @param condition the condition
     * @throws InterruptedException when interrupted
     */
    public void await(String what, long seconds, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("page: no " + what + " after " + seconds + " s; browser errors " + errors());
    }

    /**
     * Writes a PNG of the window.
     *
     * @param png where
     * @throws IOException when it cannot be written
     */
    public void screenshot(Path png) throws IOException {
        Files.createDirectories(png.toAbsolutePath().getParent());
        Files.write(png, driver.getScreenshotAs(OutputType.BYTES));
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            deleteQuietly(profile);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
    }
}
