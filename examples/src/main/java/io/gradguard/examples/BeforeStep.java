package io.gradguard.examples;

import ai.djl.nn.ParameterList;
import java.io.IOException;

/** Called by the manual loop once gradients are complete, just before {@code trainer.step()}. */
interface BeforeStep {

    /** @param step the 1-based optimizer step about to be taken */
    void beforeStep(int step, ParameterList parameters) throws IOException;
}
