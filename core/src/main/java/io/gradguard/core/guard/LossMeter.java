package io.gradguard.core.guard;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.gradguard.core.djl.StorageViews;
import java.util.ArrayList;
import java.util.List;

/**
 * The step's loss: the mean of the single-element targets passed to {@code backward} since the
 * previous step (gradient accumulation calls it several times per step).
 *
 * <p>On CPU the value is copied at once by one native call ({@code getFloat} would clone the
 * tensor first). Elsewhere a read at {@code backward} would be a device sync each time,
 * so each target is kept as a detached view, owned here (the job may close its own handle), and
 * read at the next step in the statistics' one read. At most {@value #MAX_PENDING} are kept; past
 * that they are read at once.
 */
final class LossMeter implements AutoCloseable {

    static final int MAX_PENDING = 64;

    private final NDManager owner;
    private final Device device;
    private final List<NDArray> pending = new ArrayList<>();
    private final float[] value = new float[1];
    private double sum;
    private int count;

    /**
     * @param owner the manager that owns the kept views, closed with the engine
     * @param device where the statistics' results are, so the views stack with them
     */
    LossMeter(NDManager owner, Device device) {
        this.owner = owner;
        this.device = device;
    }

    void add(NDArray target) {
        if (target.size() != 1) {
            return;
        }
        if (device.getDeviceType().equals(Device.Type.CPU)
                && target.getDevice().getDeviceType().equals(Device.Type.CPU)) {
            // On CPU the value is copied at once, with no sync and no new handle: one native call
            // for a float32 value, the general path for any other type.
            if (StorageViews.copyResult(target, 1, value, 0)) {
                sum += value[0];
                count++;
                return;
            }
            if (target.getDataType() == DataType.FLOAT32) {
                sum += target.toByteBuffer(true).asFloatBuffer().get(0);
                count++;
                return;
            }
        }
        NDArray kept = target.stopGradient();
        kept.attach(owner);
        if (kept.getDataType() != DataType.FLOAT32 || !kept.getDevice().equals(device)) {
            NDArray moved = kept.toType(DataType.FLOAT32, false).toDevice(device, false);
            moved.attach(owner);
            if (moved != kept) {
                kept.close();
            }
            kept = moved;
        }
        pending.add(kept);
        if (pending.size() >= MAX_PENDING) {
            readPending();
        }
    }

    /** The kept losses, for the statistics to read in their one read. */
    List<NDArray> pending() {
        return pending;
    }

    /** The statistics read the pending losses: their values, in order. */
    void read(double[] values) {
        for (int i = 0; i < pending.size(); i++) {
            sum += values[i];
            count++;
        }
        closePending();
    }

    /** The mean of the losses read so far this step, or NaN when none (pending ones are not counted). */
    double mean() {
        return count == 0 ? Double.NaN : sum / count;
    }

    /** The mean since the last call, or NaN when no loss was seen; starts a new step. */
    double take() {
        if (!pending.isEmpty()) {
            readPending(); // the statistics did not run this step
        }
        double mean = count == 0 ? Double.NaN : sum / count;
        sum = 0;
        count = 0;
        return mean;
    }

    private void readPending() {
        for (NDArray kept : pending) {
            sum += kept.toFloatArray()[0];
            count++;
        }
        closePending();
    }

    private void closePending() {
        for (NDArray kept : pending) {
            kept.close();
        }
        pending.clear();
    }

    @Override
    public void close() {
        closePending();
        owner.close();
    }
}
