package io.gradguard.core.stats;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.djl.Scratch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Off CPU, where every call is a kernel launch: small gradients that share a shape, stacked and
 * reduced by one row-wise norm (and max |g|) per shape instead of one call per member. On CPU the
 * stack is a copy that costs more than it saves, and there are no groups.
 */
final class ShapeGroups {

    private final int[][] members;
    private final boolean[] isMatrix;
    private final boolean[] grouped;

    private ShapeGroups(int[][] members, boolean[] isMatrix, boolean[] grouped) {
        this.members = members;
        this.isMatrix = isMatrix;
        this.grouped = grouped;
    }

    /**
     * @param n how many gradients there are
     * @param byShape the candidates' indices by shape, in order; a shape with one member makes no group
     */
    static ShapeGroups of(int n, Map<Shape, List<Integer>> byShape) {
        boolean[] grouped = new boolean[n];
        List<int[]> groups = new ArrayList<>();
        List<Boolean> matrix = new ArrayList<>();
        for (Map.Entry<Shape, List<Integer>> e : byShape.entrySet()) {
            if (e.getValue().size() >= 2) {
                int[] group = e.getValue().stream().mapToInt(Integer::intValue).toArray();
                for (int m : group) {
                    grouped[m] = true;
                }
                groups.add(group);
                matrix.add(e.getKey().dimension() > 1);
            }
        }
        boolean[] isMatrix = new boolean[matrix.size()];
        for (int k = 0; k < isMatrix.length; k++) {
            isMatrix[k] = matrix.get(k);
        }
        return new ShapeGroups(groups.toArray(new int[0][]), isMatrix, grouped);
    }

    /** Whether gradient {@code i} is reduced with its group. */
    boolean contains(int i) {
        return grouped[i];
    }

    /** One stack and one row-wise reduction per group; each member's result positions into the arrays. */
    void reduce(
            List<ParameterGradient> gradients,
            Scratch scratch,
            boolean withMaxAbs,
            ResultReadBack readBack,
            int[] normAt,
            int[] maxAbsAt) {
        for (int k = 0; k < members.length; k++) {
            int[] group = members[k];
            NDList stackable = new NDList(group.length);
            for (int i : group) {
                stackable.add(gradients.get(i).gradient());
            }
            NDArray stacked = scratch.own(NDArrays.stack(stackable));
            if (isMatrix[k]) {
                // one row per member (PyTorch's max reduces one axis at a time)
                stacked = scratch.own(stacked.reshape(group.length, -1));
            }
            int norms = readBack.vector(scratch.own(stacked.norm(TorchReductions.ROW_AXIS, false)), group.length);
            int maxima = withMaxAbs
                    ? readBack.vector(
                            scratch.own(scratch.own(stacked.abs()).max(TorchReductions.ROW_AXIS)), group.length)
                    : -1;
            for (int m = 0; m < group.length; m++) {
                normAt[group[m]] = norms + m;
                maxAbsAt[group[m]] = maxima + m;
            }
        }
    }
}
