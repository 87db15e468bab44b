package io.gradguard.agent.report;

import io.gradguard.core.recorder.IncidentFile;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.geom.Line2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.SeriesRenderingOrder;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The plot of an incident, drawn by JFreeChart (headless): every parameter's gradient norm over
 * the recorded steps on a log scale, the first offender in red and thick, the parameters that
 * followed in colours, the others thin and grey; the trigger step marked, and steps whose
 * gradients were not finite shaded (a log scale has no place for NaN).
 */
final class IncidentPlot {

    static final int WIDTH = 1200;
    static final int HEIGHT = 700;
    /** Followers drawn in colour; the rest are grey. */
    static final int COLOURED = 8;

    private static final Color OFFENDER = new Color(0xd6, 0x27, 0x28);
    private static final Color OTHERS = new Color(0xc8, 0xc8, 0xc8);
    private static final Color[] FOLLOWERS = {
        new Color(0x1f, 0x77, 0xb4), new Color(0xff, 0x7f, 0x0e), new Color(0x2c, 0xa0, 0x2c),
                new Color(0x94, 0x67, 0xbd),
        new Color(0x8c, 0x56, 0x4b), new Color(0xe3, 0x77, 0xc2), new Color(0x17, 0xbe, 0xcf),
                new Color(0xbc, 0xbd, 0x22)
    };

    private IncidentPlot() {}

    static void write(IncidentFile f, Path png) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        // Coloured: the first offender and the followers that left their bands within the recorded
        // steps (those that left later look normal here).
        Map<String, Integer> order = new HashMap<>();
        if (f.firstOffender() != null) {
            order.put(f.firstOffender().parameter(), 0);
        }
        for (IncidentFile.Offender o : f.followers()) {
            if (o.step() <= f.step()) {
                order.putIfAbsent(o.parameter(), order.size());
            }
        }
        // grey ones first, so the coloured lines are drawn over them
        List<IncidentFile.Parameter> drawn = f.parameters().stream()
                .sorted((a, b) -> Integer.compare(rank(order, b), rank(order, a)))
                .toList();
        XYSeriesCollection data = new XYSeriesCollection();
        IncidentFile.Steps steps = f.steps();
        double smallest = Double.POSITIVE_INFINITY;
        for (IncidentFile.Parameter p : drawn) {
            XYSeries s = new XYSeries(p.name(), false, true);
            for (int j = 0; j < steps.size(); j++) {
                double v = p.gradNorm()[j];
                if (Double.isFinite(v) && v > 0) {
                    s.add(steps.step()[j], v);
                    smallest = Math.min(smallest, v);
                } else {
                    s.add(steps.step()[j], null); // a gap in the line
                }
            }
            data.addSeries(s);
        }
        LogAxis y = new LogAxis("gradient L2 norm (log scale)");
        y.setBase(10);
        y.setSmallestValue(Double.isFinite(smallest) ? smallest / 2 : 1e-12);
        y.setTickUnit(new NumberTickUnit(1.0)); // one tick per decade, labelled 10^n
        y.setMinorTickCount(9);
        NumberAxis x = new NumberAxis("step");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setAutoRangeIncludesZero(false);
        boolean[][] out = new boolean[drawn.size()][];
        for (int i = 0; i < drawn.size(); i++) {
            out[i] = drawn.get(i).outOfBand();
        }
        XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, true) {
            private static final long serialVersionUID = 1L;

            @Override
            public boolean getItemShapeVisible(int series, int item) {
                return out[series][item]; // a dot where the norm was out of its band
            }
        };
        LegendItemCollection legend = new LegendItemCollection();
        for (int i = 0; i < drawn.size(); i++) {
            int r = rank(order, drawn.get(i));
            Paint paint = r == 0 ? OFFENDER : r <= COLOURED ? FOLLOWERS[(r - 1) % FOLLOWERS.length] : OTHERS;
            lines.setSeriesPaint(i, paint);
            lines.setSeriesStroke(i, new BasicStroke(r == 0 ? 3.5f : r <= COLOURED ? 2f : 1f));
            double d = r == 0 ? 9 : r <= COLOURED ? 7 : 4;
            lines.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-d / 2, -d / 2, d, d));
        }
        XYPlot plot = new XYPlot(data, x, y, lines);
        plot.setSeriesRenderingOrder(SeriesRenderingOrder.FORWARD); // the offender, last, on top
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xe4, 0xe4, 0xe4));
        plot.setRangeGridlinePaint(new Color(0xe4, 0xe4, 0xe4));
        for (int j = 0; j < steps.size(); j++) {
            if (!Double.isFinite(steps.globalNorm()[j])) {
                IntervalMarker bad = new IntervalMarker(
                        steps.step()[j] - 0.5, steps.step()[j] + 0.5, new Color(0xd6, 0x27, 0x28, 0x30));
                plot.addDomainMarker(bad, Layer.BACKGROUND);
            }
        }
        for (int j = 0; j < steps.size(); j++) {
            if (steps.explosion()[j] && steps.step()[j] != f.step()) {
                plot.addDomainMarker(
                        new ValueMarker(
                                steps.step()[j],
                                new Color(0xd6, 0x27, 0x28, 0x60),
                                new BasicStroke(
                                        1f,
                                        BasicStroke.CAP_BUTT,
                                        BasicStroke.JOIN_MITER,
                                        10f,
                                        new float[] {2f, 3f},
                                        0f)),
                        Layer.BACKGROUND);
            }
        }
        ValueMarker trigger = new ValueMarker(
                f.step(),
                OFFENDER,
                new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        trigger.setLabel(f.trigger() + " at step " + f.step());
        trigger.setLabelFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        trigger.setLabelPaint(OFFENDER);
        trigger.setLabelAnchor(RectangleAnchor.TOP_LEFT);
        trigger.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
        plot.addDomainMarker(trigger);
        // The legend names the offender and the coloured followers; the grey ones are "others".
        int greys = 0;
        for (IncidentFile.Parameter p : f.parameters()) {
            int r = rank(order, p);
            if (r > COLOURED) {
                greys++;
            }
        }
        for (int r = 0; r <= COLOURED; r++) {
            for (int i = 0; i < drawn.size(); i++) {
                if (rank(order, drawn.get(i)) == r) {
                    String label = r == 0
                            ? drawn.get(i).name() + " (first offender)"
                            : drawn.get(i).name();
                    legend.add(new LegendItem(
                            label,
                            null,
                            null,
                            null,
                            new Line2D.Double(-8, 0, 8, 0),
                            lines.getSeriesStroke(i),
                            lines.getSeriesPaint(i)));
                }
            }
        }
        if (greys > 0) {
            legend.add(new LegendItem(
                    greys + " other parameter" + (greys == 1 ? "" : "s"),
                    null,
                    null,
                    null,
                    new Line2D.Double(-8, 0, 8, 0),
                    new BasicStroke(1f),
                    OTHERS));
        }
        plot.setFixedLegendItems(legend);
        String offender = f.firstOffender() == null
                ? "no parameter left its band"
                : "first offender " + f.firstOffender().parameter() + " (step "
                        + f.firstOffender().step() + ")";
        JFreeChart chart = new JFreeChart(
                f.model() + ": " + f.trigger() + " at step " + f.step() + ", " + offender,
                new Font(Font.SANS_SERIF, Font.BOLD, 16),
                plot,
                true);
        chart.addSubtitle(new TextTitle(
                "run " + f.run() + ", " + f.time() + " \u00b7 " + steps.size() + " recorded steps"
                        + " \u00b7 dot: out of its band \u00b7 dotted line: another explosion",
                new Font(Font.SANS_SERIF, Font.PLAIN, 12)));
        chart.getLegend().setPosition(RectangleEdge.RIGHT);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }

    /** 0 for the first offender, 1.. for the followers in order, past the coloured ones for the rest. */
    private static int rank(Map<String, Integer> order, IncidentFile.Parameter p) {
        return order.getOrDefault(p.name(), Integer.MAX_VALUE);
    }
}
