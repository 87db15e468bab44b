package io.gradguard.core.guard;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.LocalParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.djl.TrainableParameter;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs an engine's per-step path ({@code backward}, step entry, step exit) a few thousand times on
 * the agent's own two small parameters, on a daemon thread, from the end of the first CPU trainer's
 * first step (whose time, the job's start-up, it leaves alone): so that the JIT has compiled it
 * before the job's later steps need it.
 *
 * <p>HotSpot compiles a method after some hundreds (C1) and some thousands (C2) of invocations, and
 * takes the most often invoked ones first. Invoked once per step, behind the job's own
 * per-operation methods, the step path ran in the interpreter until about step 1,100 of the
 * reference mlp and reached C2 after step 2,000 (-XX:+PrintCompilation); the agent's median over
 * a 2,000-step job was then twice its later figure. Invoked here at thousands of times a second,
 * the same bytecode is compiled within the job's first hundred steps.
 *
 * <p>It changes nothing in the job: its parameters and their gradients are its own arrays, made
 * without the random generator, in a manager of its own; it never runs {@code backward} (DJL allows
 * one collecting gradient collector at a time); its engine's reports go nowhere and its failures
 * are counted nowhere but here. The first failure ends it.
 */
public final class JitWarmup {

    /** Past C2's invocation threshold (5,000) for the once-per-step methods. */
    static final int STEPS = 6000;

    /** How long JVM exit waits for the warm-up's step in progress: it is a few milliseconds at most. */
    private static final long EXIT_WAIT_MILLIS = 500;

    private static final AtomicBoolean STARTED = new AtomicBoolean();
    /** Set at JVM exit: no native call of the warm-up may run while the engine's library is torn down. */
    private static volatile boolean stopping;

    private JitWarmup() {}

    /**
     * Starts the warm-up once per JVM, when the first trainer to end a step is on a CPU; later calls
     * do nothing. Called at every step's end.
     *
     * @param trainer the job's trainer: its engine and device are used, nothing of its own
     * @param config the job's configuration, so that the same policy's path is warmed
     */
    public static void startOnce(Trainer trainer, GradGuardConfig config) {
        if (STARTED.get() || !STARTED.compareAndSet(false, true)) {
            return; // every step after the first
        }
        if (!Device.Type.CPU.equals(trainer.getManager().getDevice().getDeviceType())) {
            return; // a GPU step's path is another, and the device's own time dominates it
        }
        Engine engine = trainer.getManager().getEngine();
        Thread thread = new Thread(() -> run(engine, config, STEPS), "gradguard-warmup");
        thread.setDaemon(true);
        thread.setPriority(Thread.MIN_PRIORITY);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            stopping = true;
                            try {
                                thread.join(EXIT_WAIT_MILLIS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "gradguard-warmup-stop"));
        thread.start();
    }

    /**
     * Runs the warm-up on the calling thread.
     *
     * @param engine the job's DJL engine
     * @param config the configuration whose path is warmed
     * @param steps how many steps
     * @return the steps run: fewer than asked when one failed
     */
    static int run(Engine engine, GradGuardConfig config, int steps) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AgentErrors errors = AgentErrors.unlogged(registry);
        try (NDManager manager = engine.newBaseManager(Device.cpu())) {
            OwnParameters own = new OwnParameters(manager);
            StepEngine engineOfOwn =
                    new StepEngine(own, "warm-up", config, Optional::empty, List.of(new Nowhere()), errors);
            NDArray loss = manager.create(0.5f);
            for (int i = 0; i < steps; i++) {
                if (stopping) {
                    return i;
                }
                engineOfOwn.onBackward(loss);
                StepOutcome outcome = engineOfOwn.beforeStep();
                engineOfOwn.afterStep(false);
                if (outcome.failure() != null || errors.total() > 0) {
                    return i;
                }
            }
            return steps;
        } catch (RuntimeException | LinkageError e) {
            return 0; // nothing of the job's was touched: it only runs uncompiled for longer
        }
    }

    /** Reports go nowhere. */
    private static final class Nowhere implements StepSink {
        @Override
        public String name() {
            return "warm-up";
        }

        @Override
        public void accept(StepReport report) {
            // the warm-up's steps are nobody's
        }
    }

    /**
     * Two parameters of the warm-up's own: a 64 x 64 weight (the CPU plan's dot products) and a
     * 64-element bias (summed in Java), in a store with a fixed-rate SGD (the recovery ladder reads
     * its rate tracker). Their gradients stay the zeros DJL hands out before any backward.
     */
    private static final class OwnParameters implements DjlTrainer {

        private final NDManager manager;
        private final Device[] devices;
        private final ParameterStore store;
        private final List<TrainableParameter> trainable;

        OwnParameters(NDManager manager) {
            this.manager = manager;
            this.devices = new Device[] {manager.getDevice()};
            this.store = new ParameterStore(manager, false);
            store.setParameterServer(
                    new LocalParameterServer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(0f))
                            .build()),
                    devices);
            this.trainable = List.of(parameter("weight", new Shape(64, 64)), parameter("bias", new Shape(64)));
        }

        private TrainableParameter parameter(String name, Shape shape) {
            Parameter p = Parameter.builder()
                    .setName(name)
                    .setType(Parameter.Type.WEIGHT)
                    .optShape(shape)
                    .optInitializer(Initializer.ONES) // not the random generator: the job's stream stays its own
                    .build();
            p.initialize(manager, DataType.FLOAT32);
            return new TrainableParameter(name, p);
        }

        @Override
        public Trainer trainer() {
            return null;
        }

        @Override
        public String modelName() {
            return "warm-up";
        }

        @Override
        public NDManager manager() {
            return manager;
        }

        @Override
        public Device[] devices() {
            return devices;
        }

        @Override
        public ParameterStore parameterStore() {
            return store;
        }

        @Override
        public boolean gradientsChecked() {
            return true;
        }

        @Override
        public List<TrainableParameter> trainable() {
            return trainable;
        }
    }
}
