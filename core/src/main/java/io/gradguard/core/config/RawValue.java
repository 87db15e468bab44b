package io.gradguard.core.config;

/**
 * One setting as written by the user, before it is typed and validated.
 *
 * @param key the dotted key ({@code policy.max_norm})
 * @param text the value as written; null for an explicit YAML null ({@code log: ~})
 * @param origin where it was written, for error messages ({@code agent args}, {@code g.yml line 3})
 */
record RawValue(String key, String text, String origin) {}
