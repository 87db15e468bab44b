package io.gradguard.agent.runtime;

import io.gradguard.core.recovery.RecoveryAction;
import io.gradguard.core.recovery.RecoveryStatus;

/** What the live page shows of one trainer's recovery ladder: its latest state, with the rewinds and backoffs so far. */
final class LiveRecovery {

    private volatile LiveHistory.Recovery recovery;
    // Written by the training thread only.
    private long rewinds;
    private long backoffs;

    /** A step's state of the ladder, on the training thread. */
    void step(RecoveryStatus ladder) {
        rewinds += ladder.action() == RecoveryAction.REWIND ? 1 : 0;
        backoffs += ladder.action() == RecoveryAction.BACKOFF ? 1 : 0;
        LiveHistory.Recovery last = recovery;
        // a new object only when something changed: the page reads it from another thread
        if (last == null
                || !last.state().equals(ladder.state())
                || last.lrScale() != ladder.lrScale()
                || last.rewinds() != rewinds
                || last.backoffs() != backoffs) {
            recovery = new LiveHistory.Recovery(ladder.state(), ladder.lrScale(), rewinds, backoffs);
        }
    }

    /** The latest state, or null when the ladder reported none. */
    LiveHistory.Recovery latest() {
        return recovery;
    }

    /** Records the ladder's state (from whichever thread runs the ladder). */
    void set(LiveHistory.Recovery state) {
        recovery = state;
    }
}
