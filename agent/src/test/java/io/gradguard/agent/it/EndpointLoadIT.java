package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 32 concurrent scrapers and 4 open live pages are all answered while a job trains, with no agent
 * error, and the job trains on through them to its end. What they cost its step time is a figure
 * of {@code ./gradguard bench --only endpoint}, not a bound here: on a shared 2-core machine one
 * run's step times drift by more than the cost being measured.
 */
class EndpointLoadIT {

    // quiet, loaded, quiet, loaded, quiet, loaded: 6 s under load
    private static final int WINDOWS = 6;
    private static final int LOADED = WINDOWS / 2;

    @Test
    void thirtyTwoScrapersAndFourLivePagesAreAllAnsweredWhileTheJobTrains(@TempDir Path dir) throws Exception {
        EndpointLoad.Result r = EndpointLoad.run(ChildJvm.agentJar(), ChildJvm.testClassPath(), WINDOWS, dir);
        System.out.printf(
                Locale.ROOT,
                "[EndpointLoadIT] %d scrapers, %d live pages, %d x %d ms loaded windows: scrapes answered %d, failed %d,"
                        + " showing agent errors %d; page polls %d (%d step rows); median step quiet %.4f ms (%d steps),"
                        + " loaded %.4f ms (%d steps)%n",
                EndpointLoad.SCRAPERS,
                EndpointLoad.PAGES,
                LOADED,
                EndpointLoad.WINDOW_MS,
                r.answered(),
                r.failed(),
                r.errorsSeen(),
                r.pagePolls(),
                r.pageRows(),
                r.quietMedianMs(),
                r.quietNanos().size(),
                r.loadedMedianMs(),
                r.loadedNanos().size());
        assertEquals(0, r.exitCode(), r.jobOutput());
        assertTrue(r.jobOutput().contains("weights_sha256="), r.jobOutput());
        assertFalse(r.jobOutput().contains("contained a failure"), r.jobOutput());
        assertEquals(0, r.failed(), "unanswered scrapes; the first: " + r.firstFailure());
        assertEquals(0, r.errorsSeen(), "scrapes showing gradguard_agent_errors_total > 0");
        // every scraper is answered at least once a window, every page polls at least 4 times
        assertTrue(r.answered() >= EndpointLoad.SCRAPERS * LOADED, "only " + r.answered() + " scrapes answered");
        assertTrue(r.pagePolls() >= EndpointLoad.PAGES * LOADED * 4L, "live pages' polls answered: " + r.pagePolls());
        assertTrue(r.pageRows() > 0, "the live pages received no step rows");
        // the job kept training in the loaded windows, not only between them
        assertTrue(
                r.quietNanos().size() > 100 && r.loadedNanos().size() > 100,
                r.quietNanos().size() + " quiet / " + r.loadedNanos().size() + " loaded steps");
    }
}
