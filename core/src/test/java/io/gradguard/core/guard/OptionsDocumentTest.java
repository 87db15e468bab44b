package io.gradguard.core.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The users' table of every configuration key, {@code docs/options.md}, is the declarations': it
 * fails as soon as a key is added, removed or changed without the document. To rewrite the table
 * from the declarations: {@code mvn -pl core test -Dtest=OptionsDocumentTest -Dgradguard.docs.write=true}.
 */
class OptionsDocumentTest {

    private static final Path DOCUMENT = Path.of("..", "docs", "options.md");
    private static final String BEGIN =
            "<!-- options table: made from the key declarations; see OptionsDocumentTest -->\n";
    private static final String END = "<!-- end of options table -->\n";

    @Test
    void theOptionsTableIsTheDeclarations() throws IOException {
        String text = Files.readString(DOCUMENT, StandardCharsets.UTF_8);
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        assertTrue(begin >= 0 && end > begin, DOCUMENT + " lacks the table markers");
        String expected = GradGuardSchema.SCHEMA.markdownTable();
        String actual = text.substring(begin + BEGIN.length(), end);
        if (Boolean.getBoolean("gradguard.docs.write") && !expected.equals(actual)) {
            Files.writeString(
                    DOCUMENT,
                    text.substring(0, begin + BEGIN.length()) + expected + text.substring(end),
                    StandardCharsets.UTF_8);
            actual = expected;
        }
        assertEquals(
                expected,
                actual,
                DOCUMENT + " differs from the key declarations; rewrite it with"
                        + " mvn -pl core test -Dtest=OptionsDocumentTest -Dgradguard.docs.write=true");
    }
}
