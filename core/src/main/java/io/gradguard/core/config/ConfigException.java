package io.gradguard.core.config;
// TEMPORARY compile stub in main; replaced at merge.
public final class ConfigException extends RuntimeException { public ConfigException(String m) { super(m); } }
