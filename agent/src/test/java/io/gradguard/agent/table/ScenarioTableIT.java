package io.gradguard.agent.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scenario table's own machinery on real child JVMs: one row, a few columns, read from the real output. */
class ScenarioTableIT {

    private static final String AGENT = System.getProperty("gradguard.agent.jar", "target/gradguard-agent.jar");
    private static final String EXAMPLES =
            System.getProperty("gradguard.examples.jar", "../examples/target/gradguard-examples.jar");
    private static final String JAVA =
            Path.of(System.getProperty("java.home"), "bin", "java").toString();

    /**
     * lr-jump with Adam, 160 steps (40 past the jump): the twin trains, the job without the agent is far
     * below it, and auto's cell carries the ladder's counts from the agent's exit line.
     */
    @Test
    void oneRowRunsTwinBareAndAutoAndReadsTheLaddersCounts() throws Exception {
        ScenarioTable.Settings settings = ScenarioTable.Settings.parse(
                "--agent",
                AGENT,
                "--examples",
                EXAMPLES,
                "--steps",
                "160",
                "--only",
                "lr-jump:adam",
                "--variants",
                "auto,none,twin",
                "--digests");
        assertEquals(
                List.of("lr-jump:adam"),
                settings.rows.stream().map(ScenarioTable.Row::id).toList());
        assertEquals(
                List.of("twin", "none", "auto"),
                settings.columns.stream().map(ScenarioTable.Column::id).toList(),
                "columns in the table's order");
        Map<ScenarioTable.Row, Map<ScenarioTable.Column, ScenarioTable.Cell>> cells = ScenarioTable.measure(settings);
        String table = ScenarioTable.render(settings, cells);
        System.out.print(table);
        Map<ScenarioTable.Column, ScenarioTable.Cell> row =
                cells.values().iterator().next();
        ScenarioTable.Cell twin = row.get(settings.columns.get(0));
        ScenarioTable.Cell bare = row.get(settings.columns.get(1));
        ScenarioTable.Cell auto = row.get(settings.columns.get(2));
        assertTrue(twin.accuracy() > 0.7, "twin " + twin);
        assertTrue(bare.accuracy() < twin.accuracy() - 0.2, "without the agent " + bare + " vs twin " + twin);
        assertTrue(twin.recoveries().isEmpty() && bare.recoveries().isEmpty(), "no agent, no ladder");
        assertNull(auto.rejection(), auto.toString());
        assertTrue(auto.recoveries().keySet().containsAll(List.of("skip", "backoff", "rewind")), auto.toString());
        assertTrue(auto.recoveries().get("backoff") > 0, "a 60x jump of the job's rate is backed off: " + auto);
        String line = table.lines()
                .filter(l -> l.startsWith("| lr-jump | Adam |"))
                .findFirst()
                .orElseThrow();
        String gap = String.format(java.util.Locale.ROOT, "%+.1f", 100 * (auto.accuracy() - twin.accuracy()));
        assertTrue(
                line.endsWith(" | " + gap + " | skip " + auto.recoveries().get("skip") + ", backoff "
                        + auto.recoveries().get("backoff") + ", rewind "
                        + auto.recoveries().get("rewind")
                        + (auto.recoveries().containsKey("fail")
                                ? ", fail " + auto.recoveries().get("fail")
                                : "") + " |"),
                line);
        assertTrue(table.contains("lr-jump:adam twin " + twin.digest() + "\n"), table);
        assertEquals(64, twin.digest().length());
    }

    /** An agent argument the agent cannot use: the cell still shows the run, and the agent's own line below. */
    @Test
    void rejectedAgentArgumentsAreShownWithTheAgentsLine() throws Exception {
        ScenarioTable.Settings settings =
                ScenarioTable.Settings.parse("--agent", AGENT, "--examples", EXAMPLES, "--steps", "10");
        ScenarioTable.Cell cell = ScenarioTable.run(
                JAVA,
                settings,
                ScenarioTable.ROWS.get(0),
                new ScenarioTable.Column("bogus", "bogus", false, "policy.type=glob-norm"));
        assertNotNull(cell.rejection(), cell.toString());
        assertTrue(cell.rejection().startsWith("policy.type=glob-norm is not a policy"), cell.rejection());
        assertFalse(Double.isNaN(cell.accuracy()));
        assertTrue(cell.text().endsWith(" (agent rejected its args\u00b9)"), cell.text());
    }

    @Test
    void unknownRowsColumnsAndArgumentsAreOneLine() {
        assertEquals(
                "--only: no row lr-jmp; rows are healthy:sgd,healthy:momentum,healthy:adam,explode-lr:sgd,explode-init:sgd,explode-rnn:sgd,"
                        + "nan-inject:sgd,lr-jump:sgd,lr-jump:momentum,lr-jump:adam,corrupt-batches:sgd,"
                        + "corrupt-batches:momentum,corrupt-batches:adam (a scenario alone selects all its variants)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ScenarioTable.Settings.parse(
                                        "--agent", "a", "--examples", "e", "--only", "lr-jmp"))
                        .getMessage());
        assertEquals(
                "--variants: no column clip; columns are twin,none,monitoring,global-norm,value,agc,percentile,"
                        + "zscore,auto,auto-twin",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ScenarioTable.Settings.parse(
                                        "--agent", "a", "--examples", "e", "--variants", "clip"))
                        .getMessage());
        assertEquals(
                "--jobs takes a positive whole number, got 0",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> ScenarioTable.Settings.parse("--agent", "a", "--examples", "e", "--jobs", "0"))
                        .getMessage());
        assertEquals(
                "unknown argument --fast (use --agent, --examples, --steps, --only, --variants, --jobs, --digests)",
                assertThrows(IllegalArgumentException.class, () -> ScenarioTable.Settings.parse("--fast"))
                        .getMessage());
        assertEquals(
                List.of("nan-inject:sgd", "lr-jump:sgd", "lr-jump:momentum", "lr-jump:adam"),
                ScenarioTable.Settings.parse("--agent", "a", "--examples", "e", "--only", "lr-jump,nan-inject:sgd")
                        .rows
                        .stream()
                        .map(ScenarioTable.Row::id)
                        .toList(),
                "in the table's order");
    }
}
