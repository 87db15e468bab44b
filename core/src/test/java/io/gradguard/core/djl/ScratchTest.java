package io.gradguard.core.djl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** A step's temporaries on PyTorch: freed together, owned by a manager made only when needed. */
class ScratchTest {

    @Test
    void makesNoManagerUntilSomethingIsOwned() {
        NDManager parent = NDManager.newBaseManager();
        parent.close();
        // A closed parent refuses new sub-managers: a scratch that asked for one would throw.
        Scratch scratch = Scratch.under(parent);
        scratch.close();
        scratch.close();
        assertThrows(IllegalStateException.class, scratch::manager, "the parent is closed: no sub-manager");
    }

    @Test
    void freesItsTemporariesAndOwnsNewOnesAfterwards() {
        try (NDManager parent = NDManager.newBaseManager()) {
            NDArray kept = parent.ones(new Shape(3));
            Scratch scratch = Scratch.under(parent);
            NDArray first = scratch.own(kept.mul(2));
            NDManager firstManager = scratch.manager();
            assertSame(firstManager, first.getManager());
            assertSame(parent, firstManager.getParentManager());
            scratch.close();
            assertTrue(first.isReleased(), "closing the scratch frees what it owned");
            assertFalse(kept.isReleased(), "and nothing else of its parent");

            NDArray second = scratch.own(kept.mul(3));
            assertNotSame(firstManager, second.getManager(), "a used scratch makes a new manager");
            assertFalse(second.isReleased());
            assertTrue(second.eq(3f).all().getBoolean());
            scratch.close();
            assertTrue(second.isReleased());
        }
    }

    @Test
    void inAManagerItLeavesClosingToThatManager() {
        NDArray owned;
        try (NDManager manager = NDManager.newBaseManager()) {
            Scratch scratch = Scratch.in(manager);
            owned = scratch.own(manager.zeros(new Shape(2)).add(1));
            assertSame(manager, owned.getManager());
            scratch.close();
            assertFalse(owned.isReleased(), "the caller's manager decides when its arrays go");
        }
        assertTrue(owned.isReleased());
    }
}
