package io.gradguard.core.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * The owner of a computation's temporary arrays, freed together by {@link #close}.
 *
 * <p>Made {@linkplain #under under} a parent, the manager that holds them is created only when the
 * first one is owned: most monitoring steps on CPU make no temporary at all (their sums are made
 * in Java or on raw handles), and a DJL sub-manager costs a random UUID and two maps each time
 * (about 2 us). It can be used again after {@code close}.
 */
public final class Scratch implements AutoCloseable {

    private final NDManager parent;
    /** Null until the first temporary is owned; {@code parent} itself for {@link #in}. */
    private NDManager manager;

    private Scratch(NDManager parent, NDManager manager) {
        this.parent = parent;
        this.manager = manager;
    }

    /** Temporaries go to a sub-manager of {@code parent}, made on first use and closed by {@link #close}. */
    public static Scratch under(NDManager parent) {
        return new Scratch(parent, null);
    }

    /** Temporaries go to {@code manager} itself, which its caller closes; {@link #close} does nothing. */
    public static Scratch in(NDManager manager) {
        return new Scratch(manager, manager);
    }

    /**
     * Makes {@code array} one of the temporaries.
     *
     * @return {@code array}
     */
    public NDArray own(NDArray array) {
        array.attach(manager());
        return array;
    }

    /** The manager the temporaries are attached to (made now if it does not exist yet). */
    public NDManager manager() {
        if (manager == null) {
            manager = parent.newSubManager();
        }
        return manager;
    }

    /** Frees the temporaries; the scratch can own new ones afterwards. */
    @Override
    public void close() {
        if (manager != null && manager != parent) {
            NDManager made = manager;
            manager = null;
            made.close();
        }
    }
}
