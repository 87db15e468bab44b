package io.gradguard.agent;

import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Weaves the calls to the bootstrap bridge into a class file: {@code Trainer} (and subclasses)
 * get {@code trainerCreated} at the end of each constructor, {@code beforeStep} / {@code
 * afterStep} around {@code step()} and {@code collectorCreated} with what {@code
 * newGradientCollector()} returns; {@code GradientCollector} implementations get {@code backward}
 * (the collector and its target) when {@code backward(target)} returns.
 *
 * <p>Written directly against ASM, which weaves a class in a few milliseconds from a cold JVM where
 * a general-purpose advice library needs hundreds, on the job's critical path. The woven code adds
 * no members and no locals, so it is valid for retransformation; it keeps every stack map frame of
 * the method and adds frames only where the state is known without analysis: at the method's first
 * instruction (the parameters) and in blocks appended after the original code, which see only
 * {@code this} (and the parameters, for {@code backward}) and treat every other local as unset.
 * Every {@code return} of an advised method becomes a jump to such a block. The bridge's methods
 * catch everything themselves; calls whose failure must not reach the job are also wrapped in a
 * handler that drops whatever they throw.
 */
final class AdviceWeaver {

    static final String BRIDGE = "io/gradguard/bootstrap/GradGuardBridge";
    private static final String OBJECT_ARG = "(Ljava/lang/Object;)V";
    private static final String TWO_OBJECTS = "(Ljava/lang/Object;Ljava/lang/Object;)V";
    private static final String THROWABLE = "java/lang/Throwable";

    /** What a class receives. */
    enum Advice {
        TRAINER,
        GRADIENT_COLLECTOR,
        MODEL
    }

    private AdviceWeaver() {}

    /**
     * Weaves a class file.
     *
     * @param classFile the class as it loads
     * @param advice what it receives
     * @return the woven class file, or null when it has nothing to advise (or predates stack map frames)
     */
    static byte[] weave(byte[] classFile, Advice advice) {
        ClassReader reader = new ClassReader(classFile);
        if (reader.readUnsignedShort(6) < Opcodes.V1_6) {
            return null;
        }
        ClassWriter writer = new ClassWriter(reader, 0);
        boolean[] changed = {false};
        reader.accept(
                new ClassVisitor(Opcodes.ASM9, writer) {
                    private String owner;

                    @Override
                    public void visit(
                            int version,
                            int access,
                            String name,
                            String signature,
                            String superName,
                            String[] interfaces) {
                        owner = name;
                        super.visit(version, access, name, signature, superName, interfaces);
                    }

                    @Override
                    public MethodVisitor visitMethod(
                            int access, String name, String desc, String signature, String[] exceptions) {
                        MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
                        if ((access & (Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE | Opcodes.ACC_STATIC)) != 0) {
                            return mv;
                        }
                        MethodVisitor woven = advise(advice, mv, owner, name, desc);
                        changed[0] |= woven != mv;
                        return woven;
                    }
                },
                ClassReader.EXPAND_FRAMES);
        return changed[0] ? writer.toByteArray() : null;
    }

    private static MethodVisitor advise(Advice advice, MethodVisitor mv, String owner, String name, String desc) {
        if (advice == Advice.TRAINER && name.equals("<init>")) {
            return new ExitCall(mv, owner, List.of(), 0, "trainerCreated");
        }
        if (advice == Advice.TRAINER && name.equals("step") && desc.equals("()V")) {
            return new StepAdvice(mv, owner);
        }
        if (advice == Advice.TRAINER && name.equals("newGradientCollector") && desc.startsWith("()L")) {
            return new ReturnedValueCall(mv, "collectorCreated");
        }
        if (advice == Advice.MODEL && name.equals("save") && desc.equals("(Ljava/nio/file/Path;Ljava/lang/String;)V")) {
            return new RefuseAtEntry(mv, owner, List.of("java/nio/file/Path", "java/lang/String"), "refuseSave");
        }
        Type[] args = Type.getArgumentTypes(desc);
        if (advice == Advice.GRADIENT_COLLECTOR
                && name.equals("backward")
                && args.length == 1
                && args[0].getSort() == Type.OBJECT
                && Type.getReturnType(desc) == Type.VOID_TYPE) {
            // javac gives a parameter's slot its declared type for the whole method.
            return new ExitCall(mv, owner, List.of(args[0].getInternalName()), 1, "backward");
        }
        return mv;
    }

    /**
     * Sees every instruction before it is written: {@link #beforeCode} runs once, before the
     * method's first label, frame or instruction (after its exception table, so that handlers added
     * there come after the method's own), and {@code return}s are handed to {@link #onReturn}.
     */
    private abstract static class CodeHook extends MethodVisitor {
        protected final String owner;
        private boolean started;

        CodeHook(MethodVisitor mv, String owner) {
            super(Opcodes.ASM9, mv);
            this.owner = owner;
        }

        abstract void beforeCode();

        abstract void onReturn();

        abstract void afterCode();

        /** Locals of a frame still to be written at the next instruction, unless the method's own frame comes first. */
        private List<String> pendingFrame;

        /**
         * A label just placed is a branch target: it needs a frame, unless the method's own first
         * instruction already carries one (a loop back to it). Written at the next instruction.
         */
        void frameBeforeNextInstruction(List<String> locals) {
            pendingFrame = locals;
        }

        private void start() {
            if (!started) {
                started = true;
                beforeCode();
            }
        }

        private void instruction() {
            start();
            if (pendingFrame != null) {
                List<String> locals = pendingFrame;
                pendingFrame = null;
                frame(locals);
            }
        }

        @Override
        public void visitLabel(Label label) {
            start();
            super.visitLabel(label);
        }

        @Override
        public void visitLineNumber(int line, Label start) {
            start();
            super.visitLineNumber(line, start);
        }

        @Override
        public void visitFrame(int type, int numLocal, Object[] local, int numStack, Object[] stack) {
            start();
            pendingFrame = null;
            super.visitFrame(type, numLocal, local, numStack, stack);
        }

        @Override
        public void visitInsn(int opcode) {
            instruction();
            if (opcode == Opcodes.RETURN) {
                onReturn();
            } else {
                super.visitInsn(opcode);
            }
        }

        @Override
        public void visitIntInsn(int opcode, int operand) {
            instruction();
            super.visitIntInsn(opcode, operand);
        }

        @Override
        public void visitVarInsn(int opcode, int varIndex) {
            instruction();
            super.visitVarInsn(opcode, varIndex);
        }

        @Override
        public void visitTypeInsn(int opcode, String type) {
            instruction();
            super.visitTypeInsn(opcode, type);
        }

        @Override
        public void visitFieldInsn(int opcode, String fieldOwner, String name, String descriptor) {
            instruction();
            super.visitFieldInsn(opcode, fieldOwner, name, descriptor);
        }

        @Override
        public void visitMethodInsn(
                int opcode, String methodOwner, String name, String descriptor, boolean isInterface) {
            instruction();
            super.visitMethodInsn(opcode, methodOwner, name, descriptor, isInterface);
        }

        @Override
        public void visitInvokeDynamicInsn(String name, String descriptor, Handle bootstrap, Object... arguments) {
            instruction();
            super.visitInvokeDynamicInsn(name, descriptor, bootstrap, arguments);
        }

        @Override
        public void visitJumpInsn(int opcode, Label label) {
            instruction();
            super.visitJumpInsn(opcode, label);
        }

        @Override
        public void visitLdcInsn(Object value) {
            instruction();
            super.visitLdcInsn(value);
        }

        @Override
        public void visitIincInsn(int varIndex, int increment) {
            instruction();
            super.visitIincInsn(varIndex, increment);
        }

        @Override
        public void visitTableSwitchInsn(int min, int max, Label dflt, Label... labels) {
            instruction();
            super.visitTableSwitchInsn(min, max, dflt, labels);
        }

        @Override
        public void visitLookupSwitchInsn(Label dflt, int[] keys, Label[] labels) {
            instruction();
            super.visitLookupSwitchInsn(dflt, keys, labels);
        }

        @Override
        public void visitMultiANewArrayInsn(String descriptor, int numDimensions) {
            instruction();
            super.visitMultiANewArrayInsn(descriptor, numDimensions);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            afterCode();
            super.visitMaxs(Math.max(maxStack, 2), maxLocals);
        }

        /** A frame whose locals are {@code this} and the given ones, all others unset. */
        void frame(List<String> locals, String... stack) {
            Object[] l = new Object[locals.size() + 1];
            l[0] = owner;
            for (int i = 0; i < locals.size(); i++) {
                l[i + 1] = locals.get(i);
            }
            mv.visitFrame(Opcodes.F_NEW, l.length, l, stack.length, stack.clone());
        }
    }

    /** One bridge call when the method returns normally, with {@code this} or its single argument. */
    private static final class ExitCall extends CodeHook {
        private final List<String> params;
        private final int argument;
        private final String bridgeMethod;
        private final Label exit = new Label();
        private boolean returns;

        ExitCall(MethodVisitor mv, String owner, List<String> params, int argument, String bridgeMethod) {
            super(mv, owner);
            this.params = params;
            this.argument = argument;
            this.bridgeMethod = bridgeMethod;
        }

        @Override
        void beforeCode() {}

        @Override
        void onReturn() {
            returns = true;
            mv.visitJumpInsn(Opcodes.GOTO, exit);
        }

        @Override
        void afterCode() {
            if (!returns) {
                return; // every path throws
            }
            mv.visitLabel(exit);
            frame(params);
            Label start = new Label();
            Label end = new Label();
            Label handler = new Label();
            mv.visitTryCatchBlock(start, end, handler, THROWABLE);
            mv.visitLabel(start);
            if (argument == 0) {
                mv.visitVarInsn(Opcodes.ALOAD, 0);
                mv.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, bridgeMethod, OBJECT_ARG, false);
            } else {
                // (this, argument): the collector tells whose loss it is
                mv.visitVarInsn(Opcodes.ALOAD, 0);
                mv.visitVarInsn(Opcodes.ALOAD, argument);
                mv.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, bridgeMethod, TWO_OBJECTS, false);
            }
            mv.visitLabel(end);
            mv.visitInsn(Opcodes.RETURN);
            mv.visitLabel(handler);
            frame(params, THROWABLE);
            mv.visitInsn(Opcodes.POP);
            mv.visitInsn(Opcodes.RETURN);
        }
    }

    /**
     * At entry {@code if (bridge(this)) return;}: the method's body runs only when the bridge
     * allows it (a model whose weights hold NaN/Inf is not saved over a good checkpoint).
     */
    private static final class RefuseAtEntry extends CodeHook {
        private final List<String> params;
        private final String bridgeMethod;
        private final Label body = new Label();

        RefuseAtEntry(MethodVisitor mv, String owner, List<String> params, String bridgeMethod) {
            super(mv, owner);
            this.params = params;
            this.bridgeMethod = bridgeMethod;
        }

        @Override
        void beforeCode() {
            mv.visitVarInsn(Opcodes.ALOAD, 0);
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, bridgeMethod, "(Ljava/lang/Object;)Z", false);
            mv.visitJumpInsn(Opcodes.IFEQ, body);
            mv.visitInsn(Opcodes.RETURN);
            mv.visitLabel(body);
            frameBeforeNextInstruction(params);
        }

        @Override
        void onReturn() {
            mv.visitInsn(Opcodes.RETURN);
        }

        @Override
        void afterCode() {}
    }

    /**
     * {@code bridge(this, returned)} just before each {@code areturn}, the returned reference kept on
     * the stack: no branch, so no frame is added. The bridge method catches everything itself.
     */
    private static final class ReturnedValueCall extends MethodVisitor {
        private final String bridgeMethod;

        ReturnedValueCall(MethodVisitor mv, String bridgeMethod) {
            super(Opcodes.ASM9, mv);
            this.bridgeMethod = bridgeMethod;
        }

        @Override
        public void visitInsn(int opcode) {
            if (opcode == Opcodes.ARETURN) {
                mv.visitInsn(Opcodes.DUP);
                mv.visitVarInsn(Opcodes.ALOAD, 0);
                mv.visitInsn(Opcodes.SWAP);
                mv.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, bridgeMethod, TWO_OBJECTS, false);
            }
            super.visitInsn(opcode);
        }

        @Override
        public void visitMaxs(int maxStack, int maxLocals) {
            super.visitMaxs(maxStack + 2, maxLocals);
        }
    }

    /**
     * {@code step()}: at entry {@code if (beforeStep(this)) skip the body}; on every return {@code
     * afterStep(this)}, which may throw the failure the job asked for; when the body throws, {@code
     * throw afterStepThrown(thrown, this)}.
     */
    private static final class StepAdvice extends CodeHook {
        private final Label body = new Label();
        private final Label bodyEnd = new Label();
        private final Label exit = new Label();
        private final Label thrown = new Label();
        private final Label enterFailed = new Label();

        StepAdvice(MethodVisitor mv, String owner) {
            super(mv, owner);
        }

        @Override
        void beforeCode() {
            Label enterStart = new Label();
            Label enterEnd = new Label();
            mv.visitTryCatchBlock(enterStart, enterEnd, enterFailed, THROWABLE);
            mv.visitTryCatchBlock(body, bodyEnd, thrown, THROWABLE);
            mv.visitLabel(enterStart);
            mv.visitVarInsn(Opcodes.ALOAD, 0);
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, "beforeStep", "(Ljava/lang/Object;)Z", false);
            mv.visitLabel(enterEnd);
            mv.visitJumpInsn(Opcodes.IFEQ, body);
            mv.visitJumpInsn(Opcodes.GOTO, exit);
            mv.visitLabel(body);
            frameBeforeNextInstruction(List.of());
        }

        @Override
        void onReturn() {
            mv.visitJumpInsn(Opcodes.GOTO, exit);
        }

        @Override
        void afterCode() {
            mv.visitLabel(bodyEnd);
            mv.visitLabel(exit);
            frame(List.of());
            mv.visitVarInsn(Opcodes.ALOAD, 0);
            mv.visitMethodInsn(Opcodes.INVOKESTATIC, BRIDGE, "afterStep", OBJECT_ARG, false);
            mv.visitInsn(Opcodes.RETURN);

            mv.visitLabel(thrown);
            frame(List.of(), THROWABLE);
            mv.visitVarInsn(Opcodes.ALOAD, 0);
            mv.visitMethodInsn(
                    Opcodes.INVOKESTATIC,
                    BRIDGE,
                    "afterStepThrown",
                    "(Ljava/lang/Throwable;Ljava/lang/Object;)Ljava/lang/Throwable;",
                    false);
            mv.visitInsn(Opcodes.ATHROW);

            mv.visitLabel(enterFailed);
            frame(List.of(), THROWABLE);
            mv.visitInsn(Opcodes.POP);
            mv.visitJumpInsn(Opcodes.GOTO, body);
        }
    }

    /** The internal names of a class file's super class and interfaces, read from its header only. */
    static List<String> superTypes(byte[] classFile) {
        ClassReader reader = new ClassReader(classFile);
        List<String> names = new ArrayList<>();
        if (reader.getSuperName() != null) {
            names.add(reader.getSuperName());
        }
        names.addAll(List.of(reader.getInterfaces()));
        return names;
    }

    /** Whether a class file declares an interface (or annotation). */
    static boolean isInterface(byte[] classFile) {
        return (new ClassReader(classFile).getAccess() & Opcodes.ACC_INTERFACE) != 0;
    }
}
