package io.gradguard.core.policy;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.gradguard.core.djl.StorageViews;
import java.nio.FloatBuffer;

/**
 * A one-element float32 CPU tensor, kept per training thread, whose storage the clip factor is
 * written into through a zero-copy view: the factor then costs no native call at all, where
 * making a scalar tensor each step costs a host allocation and a {@code from_blob}. Per thread,
 * so that trainers stepping at once on two threads never share one. It lives in a manager of its
 * own (of the gradients' engine), so no trainer's manager holds it or closes it under the next step.
 */
final class FactorCell {

    private static final ThreadLocal<FactorCell> CELL = new ThreadLocal<>();

    private final Engine engine;
    private final NDArray tensor;
    private final FloatBuffer view;

    private FactorCell(Engine engine, NDArray tensor, FloatBuffer view) {
        this.engine = engine;
        this.tensor = tensor;
        this.view = view;
    }

    /**
     * The kept tensor for gradients of this manager's engine, now holding {@code factor}.
     *
     * @return the tensor, or null where no view of its storage can be had: make one instead
     */
    static NDArray holding(NDManager gradients, float factor) {
        if (!Device.Type.CPU.equals(gradients.getDevice().getDeviceType())) {
            return null;
        }
        Engine engine = gradients.getEngine();
        FactorCell cell = CELL.get();
        if (cell == null || cell.engine != engine) {
            cell = make(engine);
            CELL.set(cell);
        }
        if (cell.view == null) {
            return null;
        }
        cell.view.put(0, factor);
        return cell.tensor;
    }

    private static FactorCell make(Engine engine) {
        NDArray tensor = engine.newBaseManager(Device.cpu()).create(1f);
        return new FactorCell(engine, tensor, StorageViews.floats(tensor));
    }
}
