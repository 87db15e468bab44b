package io.gradguard.core.config;

import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Reads the YAML policy file into dotted keys. It works on snakeyaml's node tree rather than on
 * constructed Java objects so that every value keeps its line number and its text as written
 * (YAML 1.1 would otherwise turn {@code on_nonfinite: no} into {@code false}).
 */
final class YamlConfigFile {

    /** The size limit of the file (see {@link ConfigFileReader}), also the parser's code point limit. */
    static final int MAX_BYTES = ConfigFileReader.MAX_BYTES;

    /** Stateless after construction, and building its regex table costs more than a small parse. */
    private static final Resolver RESOLVER = new Resolver();

    private YamlConfigFile() {}

    static Map<String, RawValue> read(ConfigSchema schema, Path file) {
        return parse(schema, ConfigFileReader.read(file), file);
    }

    /** Parses the file's bytes as read by {@link ConfigFileReader}. */
    static Map<String, RawValue> parse(ConfigSchema schema, byte[] bytes, Path file) {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new ConfigException(
                    "config=" + Values.shown(file.toString()) + " is not UTF-8 text; save it as UTF-8");
        }
        return parse(schema, text, file.toString());
    }

    /** Parses YAML text; {@code fileName} names the source in messages. */
    static Map<String, RawValue> parse(ConfigSchema schema, String text, String fileName) {
        String name = fileName; // ConfigException escapes line breaks; a path is never cut
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setMaxAliasesForCollections(20);
            options.setNestingDepthLimit(20);
            options.setCodePointLimit(MAX_BYTES);
            options.setAllowRecursiveKeys(false);
            // The composer alone: no object construction, so no class instantiation from tags either.
            root = new Composer(new ParserImpl(new StreamReader(new StringReader(text)), options), RESOLVER, options)
                    .getSingleNode();
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
            throw new ConfigException(name + (mark == null ? "" : " line " + (mark.getLine() + 1))
                    + " is not valid YAML: " + Values.shown(String.valueOf(problem)) + "; fix the syntax");
        } catch (YAMLException e) {
            throw new ConfigException(
                    name + " is not valid YAML: " + Values.shown(String.valueOf(e.getMessage())) + "; fix the syntax");
        } catch (RuntimeException e) {
            // Defensive: a parser bug must surface as a config error, never crash the training job.
            throw new ConfigException(
                    name + " could not be parsed (" + e.getClass().getSimpleName() + "); fix the syntax");
        }
        Map<String, RawValue> values = new HashMap<>();
        if (root == null || isNull(root)) {
            return values; // an empty file sets nothing
        }
        if (!(root instanceof MappingNode mapping)) {
            throw new ConfigException(
                    name + line(root) + " must be a mapping of keys such as 'port: 9404', not a " + kind(root));
        }
        walk(schema, mapping, "", name, values);
        return values;
    }

    private static void walk(
            ConfigSchema schema, MappingNode mapping, String prefix, String file, Map<String, RawValue> values) {
        for (NodeTuple tuple : mapping.getValue()) {
            Node keyNode = tuple.getKeyNode();
            Node valueNode = tuple.getValueNode();
            if (!(keyNode instanceof ScalarNode scalarKey) || isNull(keyNode)) {
                throw new ConfigException(file + line(keyNode) + " has a " + kind(keyNode)
                        + " as a key; keys are plain names such as port");
            }
            String rawKey = scalarKey.getValue();
            if (rawKey.equals("<<")) {
                throw new ConfigException(file + line(keyNode) + " uses a YAML merge key (<<); write the keys out");
            }
            String key = prefix + ConfigSources.normalise(rawKey);
            String where = file + line(keyNode);
            if (key.equals("config")) {
                throw new ConfigException(
                        "config in " + where
                                + " cannot name another file; set config in agent args, -Dgradguard.config or GRADGUARD_CONFIG");
            }
            if (schema.sections().contains(key)) {
                if (valueNode instanceof MappingNode section) {
                    walk(schema, section, key + ".", file, values);
                } else if (!isNull(valueNode)) {
                    throw new ConfigException(
                            key + " in " + where + " is a section, not a value; nest its keys under it" + " (e.g. "
                                    + key + ":\\n  " + schema.firstChild(key) + ": ...)");
                }
                continue;
            }
            if (!schema.isKey(key)) {
                throw new ConfigException(Values.shown(key) + " in " + where + " is not a gradguard key; did you mean "
                        + schema.closest(key, prefix.isEmpty()) + "?");
            }
            if (!(valueNode instanceof ScalarNode scalar)) {
                throw new ConfigException(key + " in " + where + " must be a single value, not a " + kind(valueNode));
            }
            String text = isNull(scalar) ? null : scalar.getValue();
            RawValue previous = values.put(key, new RawValue(key, text, where));
            if (previous != null) {
                throw new ConfigException(
                        key + " in " + where + " is set twice (also " + previous.origin() + "); keep one");
            }
        }
    }

    private static boolean isNull(Node node) {
        return node instanceof ScalarNode && Tag.NULL.equals(node.getTag());
    }

    private static String kind(Node node) {
        if (node instanceof MappingNode) {
            return "mapping";
        }
        if (node instanceof SequenceNode) {
            return "list";
        }
        return "value";
    }

    private static String line(Node node) {
        Mark mark = node.getStartMark();
        return mark == null ? "" : " line " + (mark.getLine() + 1);
    }
}
