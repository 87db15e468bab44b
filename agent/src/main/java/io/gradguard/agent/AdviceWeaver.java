package io.gradguard.agent;

import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
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
    static final String OBJECT_ARG = "(Ljava/lang/Object;)V";
    static final String TWO_OBJECTS = "(Ljava/lang/Object;Ljava/lang/Object;)V";
    static final String THROWABLE = "java/lang/Throwable";

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
