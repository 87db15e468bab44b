package io.gradguard.agent.it;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code ./gradguard screenshot}: the live page of a real exploding run rescued by a policy (the
 * reference trainer's {@code explode-lr}, learning rate 1.5, under {@code global-norm} clipping at
 * 1.0), photographed by headless Chromium once training is done, for the README.
 */
public final class LivePageScreenshot {

    private LivePageScreenshot() {}

    /**
     * Takes the screenshot.
     *
     * @param args {@code --agent JAR --examples JAR [--out PNG] [--steps N]}
     * @throws Exception when the job or the browser fails
     */
    public static void main(String[] args) throws Exception {
        Path out = Path.of("docs/images/live-page.png");
        int steps = 600;
        String scenario = "explode-lr";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--agent" -> System.setProperty("gradguard.agent.jar", args[i + 1]);
                case "--examples" -> System.setProperty("gradguard.examples.jar", args[i + 1]);
                case "--out" -> out = Path.of(args[i + 1]);
                case "--steps" -> steps = Integer.parseInt(args[i + 1]);
                case "--scenario" -> scenario = args[i + 1];
                default ->
                    throw new IllegalArgumentException("unknown option " + args[i]
                            + "; use --agent JAR --examples JAR [--out PNG] [--steps N] [--scenario NAME]");
            }
        }
        int port = ChildJvm.freePort();
        String base = "http://127.0.0.1:" + port + "/";
        List<String> trainer = List.of(
                "--scenario",
                scenario,
                "--max-steps",
                String.valueOf(steps),
                "--epochs",
                "1",
                "--limit-train",
                String.valueOf(steps * 64),
                "--limit-test",
                "1000",
                "--linger",
                "120");
        try (ChildJvm job = ReferenceTrainerIT.trainer(
                "port=" + port + ",summary=0,run=" + scenario
                        + "-global-norm,policy.type=global-norm,policy.max_norm=1.0",
                trainer)) {
            job.awaitOutput("lingering", 300);
            try (HeadlessChromium browser = HeadlessChromium.start(1400, 1000)) {
                browser.driver.get(base);
                int expected = steps;
                browser.await(
                        "charts drawn",
                        60,
                        () -> Boolean.TRUE.equals(browser.script(
                                "const s = document.querySelector('section.track');"
                                        + "return !!s && !!s.dataset.drawn && JSON.parse(s.dataset.drawn).heat === arguments[0];",
                                expected)));
                // The whole page, no scroll bar: the window as tall as the document.
                long height = ((Number)
                                browser.script(
                                        "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;"))
                        .longValue();
                browser.driver.manage().window().setSize(new org.openqa.selenium.Dimension(1400, (int) height));
                Thread.sleep(1000); // a resize redraws the charts at the next poll
                browser.screenshot(out);
                if (!browser.errors().isEmpty()) {
                    throw new IllegalStateException("browser errors: " + browser.errors());
                }
            }
            String done = job.output()
                    .lines()
                    .filter(l -> l.startsWith("done:"))
                    .findFirst()
                    .orElse("(no done line)");
            System.out.println("live page of " + scenario + " under global-norm (" + done + ") written to "
                    + out.toAbsolutePath());
        }
    }
}
