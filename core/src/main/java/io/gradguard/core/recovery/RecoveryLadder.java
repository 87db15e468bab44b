package io.gradguard.core.recovery;

import io.gradguard.core.config.GradGuardConfig;

/**
 * The recovery ladder: what the agent does, step by step, when clipping alone does not hold a run.
 * A small state machine over the figures each step already has on the host (no device work); the
 * caller carries out its verdicts. Its rungs, from the mildest:
 *
 * <pre>
 *            isolated outlier step ──────────────────────────────> SKIP its update
 *   CALM ──  explosions persist (recovery.persist in .window) ───> BACKOFF: rate x factor ──> BACKED-OFF
 *            the job's own rate jumps x rate_jump in one step ───> BACKOFF to the previous update size
 *   BACKED-OFF ── recovery.calm_steps without explosion ─────────> RAISE: rate / factor (never above the
 *                                                                   level that failed before) ──> CALM at 1
 *   RAISED ── explosions, or the loss rises within the trial ──────> BACKOFF to the level before, now the
 *                                                                   ceiling; REWIND to the raise's snapshot
 *   any ── recovery.diverge_steps bad steps in a row ────────────> REWIND to the last healthy snapshot,
 *                                                                   rate x factor^2, never raised again
 *   any ── more than recovery.max_rewinds within rewind_window ──> FAIL the job (or STOP recovering)
 * </pre>
 *
 * <p>An <em>explosion</em> is a step the detector flags (its global-norm z-score), a non-finite
 * gradient, or a loss far above its band (a running mean and spread of log loss, fed by healthy
 * steps only). A <em>bad</em> step, for divergence, is a non-finite gradient or loss, or a loss
 * far above the band. A snapshot is taken every {@code recovery.snapshot_every} steps, and at the
 * first, only when the last {@code recovery.window} steps were healthy, and at every raise.
 *
 * <p>Called on the training thread only.
 */
public final class RecoveryLadder {

    /** A step whose norm is this many times the detector's bound is an outlier, not just a spike. */
    static final double OUTLIER_FACTOR = 20.0;
    /**
     * Steps after a raise during which a rising loss undoes it: a rate that is too high for the run
     * need not explode the norm (with momentum it often does not); it makes the loss climb instead.
     */
    static final int TRIAL_STEPS = 40;
    /** The rise of the loss band's mean (log loss) during a trial that undoes the raise: 10%. */
    static final double TRIAL_LOSS_RISE = Math.log(1.1);

    private final boolean backoff;
    private final boolean rewind;
    private final LadderSettings settings;

    private final LossBand lossBand = new LossBand();
    private final StepWindow explosions;
    private final StepWindow recentRewinds;

    private double scale = 1.0;
    private double ceiling = 1.0;
    private long lastEvent = Long.MIN_VALUE / 2;
    private long lastChange = Long.MIN_VALUE / 2;
    private long lastRaise = Long.MIN_VALUE / 2;
    private double lossAtRaise = Double.NaN;
    private long badInARow;
    private long snapshotStep = -1;
    private double previousRate = Double.NaN;
    private boolean exhausted;

    private RecoveryLadder(GradGuardConfig c, boolean backoff, boolean rewind) {
        this.backoff = backoff;
        this.rewind = rewind;
        this.settings = LadderSettings.of(c);
        this.explosions = new StepWindow(settings.persist(), settings.window(), false);
        this.recentRewinds = new StepWindow(settings.maxRewinds() + 1, settings.rewindWindow(), true);
    }

    /**
     * The ladder a configuration asks for.
     *
     * @param config the configuration
     * @param autoPolicy whether {@code policy.type=auto}, which turns the rungs set to {@code auto} on
     * @return the ladder, or null when neither backoff nor rewind is on
     */
    public static RecoveryLadder of(GradGuardConfig config, boolean autoPolicy) {
        boolean backoff = on(config.get(RecoveryKeys.BACKOFF), autoPolicy);
        boolean rewind = on(config.get(RecoveryKeys.REWIND), autoPolicy);
        return backoff || rewind ? new RecoveryLadder(config, backoff, rewind) : null;
    }

    private static boolean on(String setting, boolean autoPolicy) {
        return "on".equals(setting) || ("auto".equals(setting) && autoPolicy);
    }

    /** @return whether rewinds are on (the caller then keeps snapshots) */
    public boolean rewinds() {
        return rewind;
    }

    /** @return whether backoff is on (the caller then scales the optimizer's rate) */
    public boolean backsOff() {
        return backoff;
    }

    /**
     * One step's figures, before DJL's update.
     *
     * @param step the step number
     * @param globalNorm the pre-clip global norm (NaN or Inf when not finite)
     * @param explosion whether the detector flagged the step
     * @param explosionBound the norm above which the detector flags (NaN while unknown)
     * @param loss the step's mean loss, NaN when none
     * @param nextJobRate the job's own rate for this update (NaN when unknown)
     * @param canRewind whether a snapshot exists to rewind to
     * @return what to do; the caller applies {@link RecoveryVerdict#lrScale()} before the update
     */
    public RecoveryVerdict beforeUpdate(
            long step,
            double globalNorm,
            boolean explosion,
            double explosionBound,
            double loss,
            double nextJobRate,
            boolean canRewind) {
        if (exhausted) {
            return verdict(RecoveryAction.NONE, 0, null);
        }
        boolean nonFinite = !Double.isFinite(globalNorm);
        boolean lossFar = lossBand.farAbove(loss);
        boolean lossBad = !Double.isNaN(loss) && !Double.isFinite(loss);
        boolean event = explosion || nonFinite || lossFar || lossBad;
        boolean bad = nonFinite || lossBad || lossFar;
        badInARow = bad ? badInARow + 1 : 0;
        if (!event && Double.isFinite(loss) && loss > 0) {
            lossBand.feed(loss);
        }
        if (rewind && badInARow >= settings.divergeSteps() && canRewind) {
            return rewindNow(step);
        }
        RecoveryAction action = RecoveryAction.NONE;
        String why = null;
        if (event) {
            lastEvent = step;
            boolean persistent = addEvent(step);
            if (backoff && persistent) {
                backOff(step);
                action = RecoveryAction.BACKOFF;
                why = "explosions on " + settings.persist() + " of the last " + settings.window() + " steps";
            } else if (!persistent && !nonFinite && explosion && globalNorm > OUTLIER_FACTOR * explosionBound) {
                action = RecoveryAction.SKIP;
                why = "an isolated outlier: global norm " + format(globalNorm) + ", "
                        + format(globalNorm / explosionBound) + "x the explosion bound";
            }
        }
        if (backoff && action == RecoveryAction.NONE && raiseMadeItWorse(step)) {
            return undoRaise(step, canRewind);
        } else if (backoff && action == RecoveryAction.NONE) {
            action = guardRate(step, nextJobRate);
            if (action == RecoveryAction.BACKOFF) {
                why = "the job's own learning rate jumped " + format(nextJobRate / previousRate) + "x in one step";
            } else if (action == RecoveryAction.NONE && raiseIfCalm(step)) {
                action = RecoveryAction.RAISE;
                why = settings.calmSteps() + " calm steps";
            }
        }
        if (Double.isFinite(nextJobRate) && nextJobRate > 0) {
            previousRate = nextJobRate;
        }
        return verdict(action, 0, why);
    }

    /**
     * Whether a snapshot is due at this step (before its update): at the first step, then every
     * {@code snapshot_every} steps while the run is healthy.
     *
     * @param step the step number
     * @param stepIsHealthy whether this step had no event
     * @return true to take one now
     */
    public boolean snapshotDue(long step, boolean stepIsHealthy) {
        if (!rewind || exhausted || !stepIsHealthy || badInARow > 0) {
            return false;
        }
        boolean calm = step - lastEvent > settings.window();
        // a raise is a trial: the state before its first update is what a failed trial goes back to
        return snapshotStep < 0 || step == lastRaise || (calm && step - snapshotStep >= settings.snapshotEvery());
    }

    /**
     * A snapshot was taken before this step's update.
     *
     * @param step the step number
     */
    public void snapshotTaken(long step) {
        snapshotStep = step;
    }

    /** @return the ladder's state now */
    public RecoveryStatus status() {
        return verdict(RecoveryAction.NONE, 0, null).status();
    }

    private RecoveryVerdict rewindNow(long step) {
        long undone = step - snapshotStep;
        badInARow = 0;
        explosions.clear();
        lastEvent = step;
        if (recentRewinds.addIfRoom(step) > settings.maxRewinds()) {
            exhausted = true;
            RecoveryAction end = settings.failWhenExhausted() ? RecoveryAction.FAIL : RecoveryAction.STOP;
            return verdict(
                    end,
                    0,
                    "more than " + settings.maxRewinds() + " rewinds within " + settings.rewindWindow() + " steps");
        }
        if (backoff) {
            // the rate the run diverged at is proven too high: a double backoff, and never back up
            scale = Math.max(settings.minScale(), scale * settings.factor() * settings.factor());
            ceiling = scale;
            lastChange = step;
        }
        return verdict(
                RecoveryAction.REWIND,
                undone,
                settings.divergeSteps() + " bad steps in a row; back to the snapshot of step " + snapshotStep);
    }

    /** Counts an event; true when {@code persist} of them fall within the window. */
    private boolean addEvent(long step) {
        if (explosions.slide(step) >= settings.persist()) {
            explosions.clear(); // the next backoff needs persist more events
            return true;
        }
        return false;
    }

    private void backOff(long step) {
        if (step - lastRaise <= settings.calmSteps()) {
            // the raise brought the explosions back: never go up to that level again
            ceiling = Math.min(ceiling, scale * settings.factor());
        }
        scale = Math.max(settings.minScale(), scale * settings.factor());
        lastChange = step;
    }

    /** A sudden rise of the job's own rate is held back to the previous update size. */
    private RecoveryAction guardRate(long step, double rate) {
        if (!(Double.isFinite(rate) && rate > 0 && previousRate > 0) || rate / previousRate < settings.rateJump()) {
            return RecoveryAction.NONE;
        }
        scale = Math.max(settings.minScale(), scale * previousRate / rate);
        lastChange = step;
        return RecoveryAction.BACKOFF;
    }

    private boolean raiseIfCalm(long step) {
        if (scale >= ceiling || step - lastEvent < settings.calmSteps() || step - lastChange < settings.calmSteps()) {
            return false;
        }
        scale = Math.min(ceiling, scale / settings.factor());
        lastChange = step;
        lastRaise = step;
        lossAtRaise = lossBand.warmedUp() ? lossBand.mean() : Double.NaN;
        return true;
    }

    /**
     * A raise whose trial failed is undone: the rate goes back to the level before it, which becomes
     * the ceiling, and with rewinds on the run goes back to the snapshot taken at the raise, so the
     * trial's updates leave no trace (they do not count towards {@code recovery.max_rewinds}: the run
     * did not diverge, the raise was too much).
     */
    private RecoveryVerdict undoRaise(long step, boolean canRewind) {
        String why = "the loss rose " + format(100 * Math.expm1(lossBand.mean() - lossAtRaise)) + "% in the "
                + (step - lastRaise) + " steps since the rate was raised";
        lossAtRaise = Double.NaN;
        backOff(step);
        if (rewind && canRewind && snapshotStep == lastRaise) {
            badInARow = 0;
            return verdict(
                    RecoveryAction.REWIND, step - snapshotStep, why + "; back to the snapshot of step " + snapshotStep);
        }
        return verdict(RecoveryAction.BACKOFF, 0, why);
    }

    /** During a raise's trial: whether the loss band's mean has risen past the trial's limit. */
    private boolean raiseMadeItWorse(long step) {
        return step - lastRaise <= TRIAL_STEPS
                && !Double.isNaN(lossAtRaise)
                && lossBand.mean() - lossAtRaise > TRIAL_LOSS_RISE;
    }

    private RecoveryVerdict verdict(RecoveryAction action, long undone, String why) {
        return new RecoveryVerdict(
                action,
                scale,
                new RecoveryStatus(
                        exhausted ? "exhausted" : scale < 1 ? "backed-off" : "calm", scale, action, undone, why));
    }

    private static String format(double v) {
        return String.format(java.util.Locale.ROOT, "%.3g", v);
    }
}
