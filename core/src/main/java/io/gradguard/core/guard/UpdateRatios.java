package io.gradguard.core.guard;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import io.gradguard.core.djl.Scratch;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import java.util.List;

/**
 * ||dw|| / ||w|| per parameter over one step: a copy of the weights before the update, compared
 * after it. Costs a copy of every weight, so it runs on sampled steps only.
 */
final class UpdateRatios {

    private List<ParameterGradient> sampled;
    private List<NDArray> weightsBefore;
    private double[] weightNormsBefore;

    /** Copies the weights (into {@code scratch}) before DJL's update. */
    void snapshot(List<ParameterGradient> grads, StepStats stats, Scratch scratch) {
        double[] norms = new double[grads.size()];
        NDList copies = new NDList(grads.size());
        for (int i = 0; i < norms.length; i++) {
            norms[i] = stats.parameters().get(i).weightNorm();
            NDArray copy = grads.get(i).weight().duplicate();
            scratch.own(copy);
            copies.add(copy);
        }
        sampled = grads;
        weightsBefore = copies;
        weightNormsBefore = norms;
    }

    boolean pending() {
        return sampled != null;
    }

    /** After the update: the ratios, one host read; ||w|| before is already in the statistics. */
    double[] compute(Scratch scratch) {
        NDList scalars = new NDList(sampled.size());
        for (int i = 0; i < sampled.size(); i++) {
            NDArray delta = sampled.get(i).weight().sub(weightsBefore.get(i));
            scratch.own(delta);
            NDArray deltaNorm = delta.norm();
            scratch.own(deltaNorm);
            scalars.add(deltaNorm);
        }
        NDArray stacked = NDArrays.stack(scalars);
        scratch.own(stacked);
        NDArray wide = stacked.toType(DataType.FLOAT32, false);
        scratch.own(wide);
        float[] v = wide.toFloatArray();
        double[] ratios = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double w = weightNormsBefore[i];
            ratios[i] = w > 0 ? v[i] / w : Double.NaN;
        }
        return ratios;
    }

    void clear() {
        sampled = null;
        weightsBefore = null;
        weightNormsBefore = null;
    }
}
