package io.gradguard.agent.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The README's metrics table, the users' copy of the metric contract, as the series names a scrape
 * shows: a histogram adds {@code _bucket}, {@code _count} and {@code _sum}, a summary {@code _count}
 * and {@code _sum}, and a row saying "(and `_max`)" a {@code _max} gauge.
 */
final class ReadmeMetricsTable {

    private static final Path README = Path.of("..", "README.md");
    private static final Pattern ROW = Pattern.compile("(?m)^\\| `(gradguard_\\w+)(?:\\{[^}]*})?` \\| ([^|]+) \\|");

    private ReadmeMetricsTable() {}

    /** Every series name the README's table promises, as scraped. */
    static Set<String> scrapedNames() throws IOException {
        Matcher m = ROW.matcher(Files.readString(README));
        Set<String> names = new TreeSet<>();
        while (m.find()) {
            String name = m.group(1);
            String type = m.group(2);
            // a histogram's own name is not a series; its buckets are
            names.add(type.startsWith("histogram") ? name + "_bucket" : name);
            if (type.startsWith("histogram") || type.startsWith("summary")) {
                names.add(name + "_count");
                names.add(name + "_sum");
            }
            if (type.contains("(and `_max`)")) {
                names.add(name + "_max");
            }
        }
        return names;
    }

    /** The distinct gradguard series names in a Prometheus text scrape. */
    static Set<String> namesIn(String scrape) {
        Set<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (line.startsWith("gradguard_")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }
}
