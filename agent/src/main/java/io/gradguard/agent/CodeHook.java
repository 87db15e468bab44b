package io.gradguard.agent;

import java.util.List;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Sees every instruction before it is written: {@link #beforeCode} runs once, before the
 * method's first label, frame or instruction (after its exception table, so that handlers added
 * there come after the method's own), and {@code return}s are handed to {@link #onReturn}.
 */
abstract class CodeHook extends MethodVisitor {
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
    public void visitMethodInsn(int opcode, String methodOwner, String name, String descriptor, boolean isInterface) {
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
