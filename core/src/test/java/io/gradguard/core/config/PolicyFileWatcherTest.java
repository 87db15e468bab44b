package io.gradguard.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.policy.AdaptiveGradientClip;
import io.gradguard.core.policy.ClipPolicies;
import io.gradguard.core.policy.GlobalNormClip;
import io.gradguard.core.policy.ValueClip;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFileWatcherTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final AtomicLong clockNanos = new AtomicLong(1_000_000_000L);

    private Path file;
    private GradGuardConfig initial;

    private PolicyFileWatcher watcher(String agentArgs, String yaml, long intervalMillis) throws IOException {
        file = dir.resolve("gradguard.yml");
        Files.writeString(file, yaml);
        String args = "config=" + file + (agentArgs.isEmpty() ? "" : "," + agentArgs);
        initial = GradGuardSchema.load(args, Map.of(), Map.of());
        return new PolicyFileWatcher(
                initial,
                ConfigSources.of(GradGuardSchema.SCHEMA, args, Map.of(), Map.of()),
                intervalMillis,
                clockNanos::get,
                new PrintStream(stderr, true, StandardCharsets.UTF_8));
    }

    /** Writes new content and moves the mtime on, so the test does not depend on clock granularity. */
    private void edit(String yaml) throws IOException {
        FileTime before = Files.getLastModifiedTime(file);
        Files.writeString(file, yaml);
        Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 1000));
    }

    private void advanceMillis(long millis) {
        clockNanos.addAndGet(millis * 1_000_000L);
    }

    /**
     * A setting that was unusable at start (here an auth file that is gone) was said then and
     * switched off the endpoint only; it must not block every later edit of the policy.
     */
    @Test
    void aPolicyEditIsAcceptedThoughAnotherSettingWasUnusableAtStart() throws IOException {
        file = dir.resolve("gradguard.yml");
        Files.writeString(file, "policy:\n  type: global-norm\n");
        String args = "config=" + file + ",auth_file=" + dir.resolve("gone");
        ConfigSources sources = ConfigSources.of(GradGuardSchema.SCHEMA, args, Map.of(), Map.of());
        initial = ConfigLoader.loadForStart(GradGuardSchema.SCHEMA, sources);
        assertTrue(initial.unusable(Part.ENDPOINT));
        PolicyFileWatcher w = new PolicyFileWatcher(
                initial, sources, 500, clockNanos::get, new PrintStream(stderr, true, StandardCharsets.UTF_8));
        edit("policy:\n  type: value\n  clip_value: 0.3\n");
        advanceMillis(500);
        assertEquals("value", w.poll().orElseThrow().get(ClipPolicies.TYPE), stderr.toString(StandardCharsets.UTF_8));
        edit("policy:\n  type: value\n  clip_value: -1\n");
        advanceMillis(500);
        assertTrue(w.poll().isEmpty(), "a bad policy value still rejects the edit");
    }

    @Test
    void editedPolicyIsReturnedByTheNextPoll() throws IOException {
        PolicyFileWatcher w = watcher("", "policy:\n  type: global-norm\n  max_norm: 1.0\n", 500);
        edit("policy:\n  type: global-norm\n  max_norm: 0.5\n");
        advanceMillis(500);
        Optional<GradGuardConfig> next = w.poll();
        assertTrue(next.isPresent());
        assertEquals(0.5, next.get().get(GlobalNormClip.MAX_NORM));
        assertEquals("global-norm", next.get().get(ClipPolicies.TYPE));
        assertEquals(initial.run(), next.get().run(), "the run label must survive a reload");
        assertSame(next.get(), w.current());
        assertEquals(1, w.acceptedReloads());
        assertEquals(0, w.rejectedReloads());
        advanceMillis(500);
        assertTrue(w.poll().isEmpty(), "the same edit is returned once");
        assertEquals(1, w.parses());
    }

    @Test
    void brokenEditIsRejectedWithOneStderrLineAndTheOldPolicyKept() throws IOException {
        PolicyFileWatcher w = watcher("", "policy:\n  type: agc\n  lambda: 0.02\n", 0);
        edit("policy:\n  type: agc\n  lambda: -0.02\n");
        assertTrue(w.poll().isEmpty());
        assertEquals(1, w.rejectedReloads());
        assertEquals(0, w.acceptedReloads());
        assertSame(initial, w.current());
        assertEquals(0.02, w.current().get(AdaptiveGradientClip.LAMBDA));
        assertEquals(
                "[gradguard] config reload rejected: policy.lambda=-0.02 must be > 0 (from " + file
                        + " line 3); keeping the previous policy" + System.lineSeparator(),
                stderr.toString(StandardCharsets.UTF_8));
        // The same broken file is not re-parsed or re-reported at every step.
        for (int i = 0; i < 10; i++) {
            assertTrue(w.poll().isEmpty());
        }
        assertEquals(1, w.parses());
        assertEquals(1, w.rejectedReloads());
        edit("policy:\n  type: agc\n  lambda: 0.05\n");
        assertEquals(0.05, w.poll().orElseThrow().get(AdaptiveGradientClip.LAMBDA));
        assertEquals(1, w.acceptedReloads());
    }

    @Test
    void syntaxErrorAndVanishedFileAreRejectedThenRecovered() throws IOException {
        PolicyFileWatcher w = watcher("", "policy:\n  type: value\n", 0);
        edit("policy:\n  type: value\n   clip_value: [\n");
        assertTrue(w.poll().isEmpty());
        Files.delete(file);
        assertTrue(w.poll().isEmpty());
        assertTrue(w.poll().isEmpty());
        assertEquals(2, w.rejectedReloads());
        String[] lines = stderr.toString(StandardCharsets.UTF_8).split(System.lineSeparator());
        assertEquals(2, lines.length);
        assertTrue(
                lines[0].matches("\\[gradguard] config reload rejected: .*gradguard\\.yml line 3 is not valid YAML: "
                        + ".*; keeping the previous policy"),
                lines[0]);
        assertTrue(
                lines[1].matches("\\[gradguard] config reload rejected: config=.*gradguard\\.yml cannot be read "
                        + "\\(NoSuchFileException\\); check the path and its permissions; keeping the previous policy"),
                lines[1]);
        Files.writeString(file, "policy:\n  type: value\n  clip_value: 0.3\n");
        assertEquals(0.3, w.poll().orElseThrow().get(ValueClip.CLIP_VALUE));
    }

    @Test
    void argsStillWinOverAnEditedFile() throws IOException {
        PolicyFileWatcher w = watcher("policy.max_norm=0.1", "policy:\n  type: global-norm\n  max_norm: 2\n", 0);
        assertEquals(0.1, initial.get(GlobalNormClip.MAX_NORM));
        edit("policy:\n  type: per-parameter-norm\n  max_norm: 5\n");
        GradGuardConfig next = w.poll().orElseThrow();
        assertEquals("per-parameter-norm", next.get(ClipPolicies.TYPE));
        assertEquals(0.1, next.get(GlobalNormClip.MAX_NORM));
    }

    @Test
    void unchangedFileIsNeverReparsed() throws IOException {
        PolicyFileWatcher w = watcher("", "policy:\n  type: zscore\n", 0);
        for (int i = 0; i < 1000; i++) {
            advanceMillis(1);
            assertTrue(w.poll().isEmpty());
        }
        assertEquals(0, w.parses());
        assertEquals(0, w.acceptedReloads() + w.rejectedReloads());
    }

    @Test
    void looksAtTheFileAtMostOncePerInterval() throws IOException {
        PolicyFileWatcher w = watcher("", "policy:\n  type: none\n", 500);
        edit("policy:\n  type: value\n");
        advanceMillis(100);
        assertTrue(w.poll().isEmpty(), "100 ms after construction is too early");
        advanceMillis(399);
        assertTrue(w.poll().isEmpty(), "499 ms is too early");
        assertEquals(0, w.parses());
        advanceMillis(1);
        assertEquals("value", w.poll().orElseThrow().get(ClipPolicies.TYPE));
        edit("policy:\n  type: agc\n");
        advanceMillis(499);
        assertTrue(w.poll().isEmpty(), "the interval restarts at each look");
        advanceMillis(1);
        assertEquals("agc", w.poll().orElseThrow().get(ClipPolicies.TYPE));
        assertEquals(2, w.parses());
    }

    @Test
    void pollBetweenLooksCostsNanoseconds() throws IOException {
        file = dir.resolve("g.yml");
        Files.writeString(file, "policy:\n  type: none\n");
        GradGuardConfig config = GradGuardSchema.load("config=" + file, Map.of(), Map.of());
        PolicyFileWatcher w = new PolicyFileWatcher(
                config, ConfigSources.of(GradGuardSchema.SCHEMA, "config=" + file, Map.of(), Map.of()));
        int polls = 2_000_000;
        long start = System.nanoTime();
        int present = 0;
        for (int i = 0; i < polls; i++) {
            present += w.poll().isPresent() ? 1 : 0;
        }
        long nanos = System.nanoTime() - start;
        System.out.printf(
                "PolicyFileWatcher.poll(): %d polls in %.1f ms, %.1f ns/poll, %d file parses%n",
                polls, nanos / 1e6, (double) nanos / polls, w.parses());
        assertEquals(0, present);
        assertEquals(0, w.parses());
        // Generous bound for a shared 2-core machine: a step takes milliseconds, a poll must not.
        assertTrue(nanos / polls < 1_000, nanos / polls + " ns per poll");
    }

    @Test
    void aSameSizeEditWithItsModificationTimeRestoredIsApplied() throws IOException {
        PolicyFileWatcher w = watcher("", "policy:\n  type: global-norm\n  max_norm: 0.5\n", 0);
        FileTime before = Files.getLastModifiedTime(file);
        long size = Files.size(file);
        // Same inode (written in place), same size, same time: only the content tells.
        Files.writeString(file, "policy:\n  type: global-norm\n  max_norm: 0.7\n");
        Files.setLastModifiedTime(file, before);
        assertEquals(size, Files.size(file));
        assertEquals(0.7, w.poll().orElseThrow().get(GlobalNormClip.MAX_NORM));
    }

    @Test
    void aFifoOrAnOversizeFileRenamedOverTheFileIsRefusedWithoutBlockingAndAFixIsApplied() throws Exception {
        PolicyFileWatcher w = watcher("", "policy:\n  type: none\n", 0);
        Path fifo = dir.resolve("fifo");
        Process mkfifo =
                new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        Files.move(fifo, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        // A poll that opened the FIFO would wait for a writer forever; this one returns.
        assertTrue(w.poll().isEmpty());
        assertTrue(w.poll().isEmpty(), "the same reason is said once");
        Path big = dir.resolve("big.yml");
        Files.write(big, new byte[ConfigFileReader.MAX_BYTES + 1]);
        Files.move(big, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(w.poll().isEmpty());
        assertEquals(2, w.rejectedReloads());
        String[] lines = stderr.toString(StandardCharsets.UTF_8).split(System.lineSeparator());
        assertEquals(2, lines.length, String.join("\n", lines));
        assertTrue(lines[0].contains("gradguard.yml is a FIFO, socket or device, not a regular file"), lines[0]);
        assertTrue(
                lines[1].contains("gradguard.yml is " + (ConfigFileReader.MAX_BYTES + 1) + " bytes or more"), lines[1]);
        Path fixed = dir.resolve("fixed.yml");
        Files.writeString(fixed, "policy:\n  type: value\n");
        Files.move(fixed, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertEquals("value", w.poll().orElseThrow().get(ClipPolicies.TYPE));
    }

    @Test
    void aDeviceIsRefusedAtStartInOneLine() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                ConfigException.class, () -> GradGuardSchema.load("config=/dev/zero", Map.of(), Map.of()));
        assertEquals(
                "gradguard: config=/dev/zero is a FIFO, socket or device, not a regular file; point config at a"
                        + " YAML file",
                e.getMessage());
    }

    @Test
    void aPolicyEditIsAppliedAfterTheFilesAuthFileDisappeared() throws IOException {
        Path auth = dir.resolve("auth");
        Files.writeString(auth, "u:p\n");
        PolicyFileWatcher w = watcher("", "auth_file: " + auth + "\npolicy:\n  type: none\n", 0);
        Files.delete(auth);
        edit("auth_file: " + auth + "\npolicy:\n  type: global-norm\n  max_norm: 2\n");
        GradGuardConfig next = w.poll().orElseThrow();
        assertEquals(2.0, next.get(GlobalNormClip.MAX_NORM));
        assertEquals(0, w.rejectedReloads());
        String out = stderr.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("[gradguard] config reload: auth_file=" + auth + " is not a readable file"), out);
        assertTrue(
                out.contains("auth_file is not applied while the job runs (only policy.* is), so the reload goes on"),
                out);
    }

    @Test
    void aPortEditIsSaidToApplyAtTheNextStartOnce() throws IOException {
        PolicyFileWatcher w = watcher("", "port: 9500\npolicy:\n  type: none\n", 0);
        edit("port: 9600\npolicy:\n  type: value\n");
        assertEquals("value", w.poll().orElseThrow().get(ClipPolicies.TYPE));
        edit("port: 9600\npolicy:\n  type: agc\n");
        assertEquals("agc", w.poll().orElseThrow().get(ClipPolicies.TYPE));
        assertEquals(
                "[gradguard] config reload: port is now 9600 in " + file + " (in force: 9500); only policy.* changes"
                        + " while the job runs, port applies at the next start" + System.lineSeparator(),
                stderr.toString(StandardCharsets.UTF_8));
    }

    /**
     * After {@code chmod 000}, an edit, then {@code chmod 644} (which changes neither the size nor the
     * modification time), the edit is applied. Root reads any file whatever its mode, so the watcher
     * runs in a child JVM as {@code nobody}, from a copy of the class path that user can read.
     */
    @Test
    void anEditMadeWhileTheFileWasUnreadableIsAppliedOnceItIsReadable() throws Exception {
        Path shared = Files.createTempDirectory("gradguard-watch");
        try {
            Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Path yml = shared.resolve("g.yml");
            Files.writeString(yml, "policy:\n  type: none\n");
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(
                    "setpriv",
                    "--reuid=65534",
                    "--regid=65534",
                    "--clear-groups",
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    readableClassPath(shared),
                    WatcherAsOtherUserMain.class.getName(),
                    yml.toString()));
            Process child = new ProcessBuilder(cmd)
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            try (java.io.BufferedReader out = new java.io.BufferedReader(
                            new java.io.InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                    PrintStream to = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8)) {
                assertEquals("ready none", out.readLine());
                Files.setPosixFilePermissions(
                        yml, java.nio.file.attribute.PosixFilePermissions.fromString("---------"));
                Files.writeString(yml, "policy:\n  type: value\n");
                to.println("poll");
                assertEquals("- rejected=1", out.readLine(), "unreadable: rejected once");
                to.println("poll");
                assertEquals("- rejected=1", out.readLine(), "still unreadable: not said again");
                FileTime edited = Files.getLastModifiedTime(yml);
                Files.setPosixFilePermissions(
                        yml, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                assertEquals(edited, Files.getLastModifiedTime(yml), "chmod leaves the modification time");
                to.println("poll");
                assertEquals("value rejected=1", out.readLine());
            } finally {
                child.destroyForcibly();
                child.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            try (var walk = Files.walk(shared)) {
                walk.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The test class path, with every jar another user cannot read copied into {@code dir}. */
    private static String readableClassPath(Path dir) throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        java.util.List<String> out = new java.util.ArrayList<>();
        int n = 0;
        for (String entry : cp.split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (Files.isRegularFile(p)) {
                Path copy = dir.resolve((n++) + "-" + p.getFileName());
                Files.copy(p, copy);
                Files.setPosixFilePermissions(
                        copy, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                out.add(copy.toString());
            } else {
                out.add(entry); // the build's class directories, readable by everyone
            }
        }
        return String.join(java.io.File.pathSeparator, out);
    }
}
