package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A job that trains with its own {@code Trainer} subclass, loaded before DJL's {@code Trainer}
 * (its loading is what loads {@code Trainer}, so it passed the class-file hook before the agent
 * knew the type). Its {@code step()} doubles the gradients and calls {@code super.step()}: the
 * agent must act at the subclass's entry, on the gradients as backward left them.
 */
class TrainerSubclassIT {

    @Test
    void aSubclassThatLoadsTrainerIsWatchedAtItsOwnStep() throws Exception {
        Path classLog = Files.createTempFile("gradguard-subclass", ".log");
        classLog.toFile().deleteOnExit();
        String out = ClipCheck.runAndCheck(
                ChildJvm.java("-Dcheck.subclass=true", "-Xlog:class+load=info:file=" + classLog),
                ChildJvm.testClassPath(),
                12,
                7);
        assertTrue(out.contains("step 12 "), out);
        // the subclass was loaded untouched, then retransformed when its first instance was made
        assertTrue(Files.readString(classLog).contains("ClipCheckJob$DoublingTrainer source: __VM_RedefineClasses__"));
    }
}
