package io.gradguard.core.recorder;

import io.gradguard.core.recovery.RecoveryAction;
import io.gradguard.core.recovery.RecoveryStatus;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import java.util.List;

/**
 * The last {@code capacity} steps of one trainer, in preallocated primitive arrays: per step the
 * global figures, per step and parameter the gradient norm, max |g| (NaN where the step did not
 * measure it) and whether the norm was out of its band. Recording a step copies figures the report
 * already holds on the host: no native call, no allocation.
 *
 * <p>Size: {@code 9 * parameters * capacity} bytes for the per-parameter columns, and about 75
 * bytes per step for the rest (500 parameters x 64 steps: 288,000 + 4,800 bytes).
 */
final class StepRing {

    private static final StepAction[] ACTIONS = StepAction.values();
    private static final RecoveryAction[] RECOVERY_ACTIONS = RecoveryAction.values();

    private final int capacity;
    private final int parameters;
    private final long[] step;
    private final long[] wallMillis;
    private final double[] globalNorm;
    private final double[] clippedNorm;
    private final double[] coefficient;
    private final double[] loss;
    private final double[] zScore;
    private final double[] lrScale;
    private final byte[] action;
    /** Recovery action ordinal, or -1 without a ladder. */
    private final byte[] recovery;

    private final boolean[] explosion;
    private final String[] skipReason;
    /** Slot-major: slot * parameters + parameter. */
    private final float[] norm;

    private final float[] maxAbs;
    private final boolean[] outOfBand;
    private int next;
    private int size;

    StepRing(int capacity, int parameters) {
        this.capacity = capacity;
        this.parameters = parameters;
        step = new long[capacity];
        wallMillis = new long[capacity];
        globalNorm = new double[capacity];
        clippedNorm = new double[capacity];
        coefficient = new double[capacity];
        loss = new double[capacity];
        zScore = new double[capacity];
        lrScale = new double[capacity];
        action = new byte[capacity];
        recovery = new byte[capacity];
        explosion = new boolean[capacity];
        skipReason = new String[capacity];
        norm = new float[capacity * parameters];
        maxAbs = new float[capacity * parameters];
        outOfBand = new boolean[capacity * parameters];
    }

    /**
     * Records one step, comparing each parameter's norm with its band on the way.
     *
     * @param r the report
     * @param bands the trainable set's bands, fed here
     * @return whether any parameter was out of band
     */
    boolean record(StepReport r, NormBands bands) {
        int slot = next;
        StepStats stats = r.stats();
        step[slot] = r.step();
        wallMillis[slot] = r.wallMillis();
        globalNorm[slot] = stats.globalNorm();
        clippedNorm[slot] = r.clip().clippedGlobalNorm();
        coefficient[slot] = r.clip().coefficient();
        loss[slot] = r.loss();
        zScore[slot] = r.detection().zScore();
        explosion[slot] = r.detection().explosion();
        action[slot] = (byte) r.action().ordinal();
        skipReason[slot] = r.skipReason();
        RecoveryStatus rs = r.recovery();
        recovery[slot] = rs == null ? -1 : (byte) rs.action().ordinal();
        lrScale[slot] = rs == null ? 1.0 : rs.lrScale();
        List<ParameterStats> ps = stats.parameters();
        int base = slot * parameters;
        boolean anyOut = false;
        for (int i = 0; i < parameters; i++) {
            ParameterStats p = ps.get(i);
            double n = p.gradNorm();
            norm[base + i] = (float) n;
            maxAbs[base + i] = (float) p.gradMaxAbs();
            boolean out = bands.observe(i, r.step(), n);
            outOfBand[base + i] = out;
            anyOut |= out;
        }
        next = (slot + 1) % capacity;
        if (size < capacity) {
            size++;
        }
        return anyOut;
    }

    /** The step numbers held, oldest first: the first one. */
    long oldestStep() {
        return size == 0 ? 0 : step[(next - size + capacity) % capacity];
    }

    /**
     * A copy of the steps held, oldest first (allocates: called when an incident opens).
     *
     * @param names the parameters' names, in the order of the columns
     * @return the copy
     */
    Recorded snapshot(List<String> names) {
        long[] st = new long[size];
        long[] wall = new long[size];
        double[] g = new double[size];
        double[] c = new double[size];
        double[] k = new double[size];
        double[] l = new double[size];
        double[] z = new double[size];
        double[] lr = new double[size];
        String[] act = new String[size];
        String[] why = new String[size];
        String[] rec = new String[size];
        boolean[] ex = new boolean[size];
        float[][] n = new float[parameters][size];
        float[][] m = new float[parameters][size];
        boolean[][] o = new boolean[parameters][size];
        for (int j = 0; j < size; j++) {
            int slot = (next - size + j + capacity) % capacity;
            st[j] = step[slot];
            wall[j] = wallMillis[slot];
            g[j] = globalNorm[slot];
            c[j] = clippedNorm[slot];
            k[j] = coefficient[slot];
            l[j] = loss[slot];
            z[j] = zScore[slot];
            lr[j] = lrScale[slot];
            act[j] = ACTIONS[action[slot]].name().toLowerCase(java.util.Locale.ROOT);
            why[j] = skipReason[slot];
            rec[j] = recovery[slot] < 0
                    ? null
                    : RECOVERY_ACTIONS[recovery[slot]].name().toLowerCase(java.util.Locale.ROOT);
            ex[j] = explosion[slot];
            int base = slot * parameters;
            for (int i = 0; i < parameters; i++) {
                n[i][j] = norm[base + i];
                m[i][j] = maxAbs[base + i];
                o[i][j] = outOfBand[base + i];
            }
        }
        return new Recorded(List.copyOf(names), st, wall, g, c, k, l, z, lr, act, why, rec, ex, n, m, o);
    }

    /**
     * Recorded steps, oldest first; per-parameter columns are {@code [parameter][step]}.
     *
     * @param parameters the parameters' names
     * @param step step numbers
     * @param wallMillis when each step was taken
     * @param globalNorm pre-clip global norm
     * @param clippedNorm global norm after the policy
     * @param coefficient the clip coefficient
     * @param loss the step's loss (NaN if none)
     * @param zScore the detector's z-score
     * @param lrScale the recovery ladder's factor on the learning rate (1 without a ladder)
     * @param action what became of the step ({@code applied}, {@code skipped}, ...)
     * @param skipReason why it was skipped, or null
     * @param recovery the ladder's action, or null without a ladder
     * @param explosion whether the detector called it an explosion
     * @param gradNorm each parameter's gradient norm
     * @param gradMaxAbs each parameter's max |g| (NaN where not measured)
     * @param outOfBand whether each parameter's norm was out of its band
     */
    record Recorded(
            List<String> parameters,
            long[] step,
            long[] wallMillis,
            double[] globalNorm,
            double[] clippedNorm,
            double[] coefficient,
            double[] loss,
            double[] zScore,
            double[] lrScale,
            String[] action,
            String[] skipReason,
            String[] recovery,
            boolean[] explosion,
            float[][] gradNorm,
            float[][] gradMaxAbs,
            boolean[][] outOfBand) {}
}
