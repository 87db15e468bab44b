package io.gradguard.core.config;

import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.policy.AdaptiveGradientClip;
import io.gradguard.core.policy.ClipPolicies;
import io.gradguard.core.policy.GlobalNormClip;
import io.gradguard.core.policy.ValueClip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @TempDir Path dir;

    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final AtomicLong clockNanos = new AtomicLong(1_000_000_000L);

    private Path file;
    private GradGuardConfig initial;

    private PolicyFileWatcher watcher(String agentArgs, String yaml, long intervalMillis) throws IOException {
        file = dir.resolve("gradguard.yml");
        Files.writeString(file, yaml);
        String args = "config=" + file + (agentArgs.isEmpty() ? "" : "," + agentArgs);
        initial = GradGuardSchema.load(args, Map.of(), Map.of());
        return new PolicyFileWatcher(initial, ConfigSources.of(GradGuardSchema.SCHEMA, args, Map.of(), Map.of()), intervalMillis,
                clockNanos::get, new PrintStream(stderr, true, StandardCharsets.UTF_8));
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
        PolicyFileWatcher w = new PolicyFileWatcher(initial, sources, 500, clockNanos::get,
                new PrintStream(stderr, true, StandardCharsets.UTF_8));
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
        assertEquals("[gradguard] config reload rejected: policy.lambda=-0.02 must be > 0 (from " + file
                + " line 3); keeping the previous policy" + System.lineSeparator(), stderr.toString(StandardCharsets.UTF_8));
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
        assertTrue(lines[0].matches("\\[gradguard] config reload rejected: .*gradguard\\.yml line 3 is not valid YAML: "
                + ".*; keeping the previous policy"), lines[0]);
        assertTrue(lines[1].matches("\\[gradguard] config reload rejected: config=.*gradguard\\.yml cannot be read "
                + "\\(NoSuchFileException\\); check the path and its permissions; keeping the previous policy"), lines[1]);
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
        PolicyFileWatcher w = new PolicyFileWatcher(config, ConfigSources.of(GradGuardSchema.SCHEMA, "config=" + file, Map.of(), Map.of()));
        int polls = 2_000_000;
        long start = System.nanoTime();
        int present = 0;
        for (int i = 0; i < polls; i++) {
            present += w.poll().isPresent() ? 1 : 0;
        }
        long nanos = System.nanoTime() - start;
        System.out.printf("PolicyFileWatcher.poll(): %d polls in %.1f ms, %.1f ns/poll, %d file parses%n",
                polls, nanos / 1e6, (double) nanos / polls, w.parses());
        assertEquals(0, present);
        assertEquals(0, w.parses());
        // Generous bound for a shared 2-core machine: a step takes milliseconds, a poll must not.
        assertTrue(nanos / polls < 1_000, nanos / polls + " ns per poll");
    }
}
