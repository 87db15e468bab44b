package io.gradguard.examples;

import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * The faults a run injects into an otherwise healthy job, all keyed by the 1-based optimizer step.
 * A scenario's healthy twin is the same run with {@link #NONE}.
 *
 * @param nanSteps steps whose batch gets one image of NaN pixels
 * @param lrJump where the job's own learning-rate schedule changes the rate by a factor, or null for none
 * @param corruptSteps steps whose batch arrives with its pixels multiplied by {@code corruptScale}
 * @param corruptScale the factor of corrupt batches; 255 is a batch that skipped the {@code / 255} normalisation
 */
record Faults(List<Integer> nanSteps, LrJump lrJump, List<Integer> corruptSteps, double corruptScale) {

    /** The factor of a batch whose pixels were not normalised from 0..255 to 0..1. */
    static final double UNNORMALISED = 255;

    private static final int MAX_RANGE = 1_000_000;

    static final Faults NONE = new Faults(List.of(), null, List.of(), UNNORMALISED);

    /**
     * A learning-rate schedule that multiplies the rate by {@code factor} from optimizer update {@code step} on:
     * the shape of a step-decay schedule, gone wrong when the factor is above 1.
     */
    record LrJump(int step, double factor) {

        LrJump {
            if (step <= 0) {
                throw new IllegalArgumentException("--lr-jump step must be positive, got " + step);
            }
            if (!(factor > 0) || Double.isInfinite(factor)) {
                throw new IllegalArgumentException("--lr-jump factor must be a positive number, got " + factor);
            }
        }

        /** Parses {@code STEP:FACTOR}, e.g. {@code 120:60}. */
        static LrJump parse(String spec) {
            int colon = spec.indexOf(':');
            try {
                if (colon > 0) {
                    return new LrJump(
                            Integer.parseInt(spec.substring(0, colon).strip()),
                            Double.parseDouble(spec.substring(colon + 1).strip()));
                }
            } catch (NumberFormatException e) {
                // reported below, with the expected form
            }
            throw new IllegalArgumentException("--lr-jump takes STEP:FACTOR (e.g. 120:60), got '" + spec + "'");
        }

        @Override
        public String toString() {
            return step + ":" + number(factor);
        }
    }

    Faults {
        nanSteps = sortedSteps("--nan-steps", nanSteps);
        corruptSteps = sortedSteps("--corrupt-steps", corruptSteps);
        if (!(corruptScale > 0) || Double.isInfinite(corruptScale)) {
            throw new IllegalArgumentException("--corrupt-scale must be a positive number, got " + corruptScale);
        }
    }

    Faults withNanSteps(List<Integer> steps) {
        return new Faults(steps, lrJump, corruptSteps, corruptScale);
    }

    Faults withLrJump(LrJump jump) {
        return new Faults(nanSteps, jump, corruptSteps, corruptScale);
    }

    Faults withCorruption(List<Integer> steps, double scale) {
        return new Faults(nanSteps, lrJump, steps, scale);
    }

    /** True for a step whose batch the data pipeline broke: its own loss says nothing about the job's health. */
    boolean spoilsBatch(int step) {
        return nanSteps.contains(step) || corruptSteps.contains(step);
    }

    boolean isNone() {
        return nanSteps.isEmpty() && lrJump == null && corruptSteps.isEmpty();
    }

    /** E.g. {@code lr x60 from step 120}, {@code pixels x255 at steps 50,90,130-134}, or {@code none}. */
    String describe() {
        if (isNone()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        if (!nanSteps.isEmpty()) {
            sb.append("NaN pixels at step")
                    .append(nanSteps.size() == 1 ? " " : "s ")
                    .append(ranges(nanSteps));
        }
        if (lrJump != null) {
            sb.append(sb.length() == 0 ? "" : ", ")
                    .append("lr x")
                    .append(number(lrJump.factor()))
                    .append(" from step ")
                    .append(lrJump.step());
        }
        if (!corruptSteps.isEmpty()) {
            sb.append(sb.length() == 0 ? "" : ", ")
                    .append("pixels x")
                    .append(number(corruptScale))
                    .append(" at step")
                    .append(corruptSteps.size() == 1 ? " " : "s ")
                    .append(ranges(corruptSteps));
        }
        return sb.toString();
    }

    /** Runs of consecutive steps as {@code A-B}, e.g. {@code 50,90,130-134}: the form {@code --corrupt-steps} takes. */
    static String ranges(List<Integer> sorted) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sorted.size(); ) {
            int j = i;
            while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
                j++;
            }
            sb.append(sb.length() == 0 ? "" : ",").append(sorted.get(i));
            if (j > i) {
                sb.append('-').append(sorted.get(j));
            }
            i = j + 1;
        }
        return sb.toString();
    }

    /**
     * Parses {@code K[,K|A-B...]} items (picocli has split them at commas) into steps. {@code option} names
     * the option in the one-line error.
     */
    static List<Integer> parseSteps(String option, List<String> items) {
        TreeSet<Integer> steps = new TreeSet<>();
        for (String item : items) {
            String s = item.strip();
            int dash = s.indexOf('-', 1);
            try {
                if (dash < 0) {
                    steps.add(Integer.parseInt(s));
                } else {
                    int from = Integer.parseInt(s.substring(0, dash));
                    int to = Integer.parseInt(s.substring(dash + 1));
                    if (to < from || to - from >= MAX_RANGE) {
                        throw new IllegalArgumentException(option + ": range " + s + " must run forwards and hold"
                                + " fewer than " + MAX_RANGE + " steps");
                    }
                    for (int k = from; k <= to; k++) {
                        steps.add(k);
                    }
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " takes steps K or ranges A-B separated by commas (e.g."
                        + " 50,90,130-134), got '" + item + "'");
            }
        }
        return List.copyOf(steps);
    }

    private static List<Integer> sortedSteps(String option, List<Integer> steps) {
        TreeSet<Integer> sorted = new TreeSet<>(steps);
        if (!sorted.isEmpty() && sorted.first() <= 0) {
            throw new IllegalArgumentException(option + " must be positive, got " + sorted.first());
        }
        return List.copyOf(sorted);
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }

    @Override
    public String toString() {
        return describe();
    }

    /**
     * These faults with the fault options given on the command line in their place; null for an
     * option not given.
     */
    Faults withOptions(
            List<String> nanStepsGiven, String lrJumpGiven, List<String> corruptStepsGiven, Double corruptScaleGiven) {
        Faults f = this;
        if (nanStepsGiven != null) {
            f = f.withNanSteps(Faults.parseSteps("--nan-steps", nanStepsGiven));
        }
        if (lrJumpGiven != null) {
            f = f.withLrJump(Faults.LrJump.parse(lrJumpGiven));
        }
        if (corruptStepsGiven != null || corruptScaleGiven != null) {
            List<Integer> steps = corruptStepsGiven == null
                    ? f.corruptSteps()
                    : Faults.parseSteps("--corrupt-steps", corruptStepsGiven);
            f = f.withCorruption(steps, corruptScaleGiven == null ? f.corruptScale() : corruptScaleGiven);
            if (steps.isEmpty()) {
                throw new IllegalArgumentException(
                        "--corrupt-scale needs --corrupt-steps (or --scenario" + " corrupt-batches)");
            }
        }
        return f;
    }
}
