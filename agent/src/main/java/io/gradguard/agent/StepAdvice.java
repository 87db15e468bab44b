package io.gradguard.agent;

import java.util.List;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * {@code step()}: at entry {@code if (beforeStep(this)) skip the body}; on every return {@code
 * afterStep(this)}, which may throw the failure the job asked for; when the body throws, {@code
 * throw afterStepThrown(thrown, this)}.
 */
final class StepAdvice extends CodeHook {
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
        mv.visitTryCatchBlock(enterStart, enterEnd, enterFailed, AdviceWeaver.THROWABLE);
        mv.visitTryCatchBlock(body, bodyEnd, thrown, AdviceWeaver.THROWABLE);
        mv.visitLabel(enterStart);
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, AdviceWeaver.BRIDGE, "beforeStep", "(Ljava/lang/Object;)Z", false);
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
        mv.visitMethodInsn(Opcodes.INVOKESTATIC, AdviceWeaver.BRIDGE, "afterStep", AdviceWeaver.OBJECT_ARG, false);
        mv.visitInsn(Opcodes.RETURN);

        mv.visitLabel(thrown);
        frame(List.of(), AdviceWeaver.THROWABLE);
        mv.visitVarInsn(Opcodes.ALOAD, 0);
        mv.visitMethodInsn(
                Opcodes.INVOKESTATIC,
                AdviceWeaver.BRIDGE,
                "afterStepThrown",
                "(Ljava/lang/Throwable;Ljava/lang/Object;)Ljava/lang/Throwable;",
                false);
        mv.visitInsn(Opcodes.ATHROW);

        mv.visitLabel(enterFailed);
        frame(List.of(), AdviceWeaver.THROWABLE);
        mv.visitInsn(Opcodes.POP);
        mv.visitJumpInsn(Opcodes.GOTO, body);
    }
}
