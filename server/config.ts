import { formatDurationText, parseDurationText } from "./duration-text.js";
import { SERVICE_DEFAULTS as d, type ServiceSettings } from "./server-options.js";

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * Everything the server reads from its environment, parsed and validated. The service settings
 * come from MAX_WAIT, MAX_JOB_DURATION, SHORT_POLL_RATE, CREATE_RATE, FAULT_RATE, MAX_BODY_BYTES
 * and MAX_WAITS_PER_CALLER (defaults in SERVICE_DEFAULTS).
 */
export interface ServerConfig extends ServiceSettings {
  /** PORT: the TCP port to listen on. @default 8000 */
  port: number;
  /** HOST: the address to listen on. @default "127.0.0.1" */
  host: string;
  /** JOB_STORE: where jobs live. @default "memory" */
  jobStore: "memory";
  /** LOG_LEVEL: the level of the server's log (pino). @default "info" */
  logLevel: (typeof logLevels)[number];
}

/** Thrown by loadConfig when a setting has a value the server cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The environment variable at fault. */
  readonly setting: string;

  constructor(setting: string, value: string, allowed: string) {
    super(`${setting}=${JSON.stringify(value)} is not valid: expected ${allowed}`);
    this.setting = setting;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads the server's settings from `env`, filling in defaults. Throws ConfigError naming the
 * first setting whose value is not allowed.
 */
export function loadConfig(env: Env): ServerConfig {
  return {
    port: readInteger(env, "PORT", 8000, 0, 65_535),
    host: readString(env, "HOST", "127.0.0.1"),
    jobStore: readChoice(env, "JOB_STORE", "memory", ["memory"] as const),
    maxWaitMs: readDuration(env, "MAX_WAIT", d.maxWaitMs, 1, 3_600_000),
    maxJobDurationMs: readDuration(env, "MAX_JOB_DURATION", d.maxJobDurationMs, 0, 24 * 3_600_000),
    shortPollRate: readNumber(env, "SHORT_POLL_RATE", d.shortPollRate, 0, 1_000_000),
    createRate: readNumber(env, "CREATE_RATE", d.createRate, 0, 1_000_000),
    faultRate: readNumber(env, "FAULT_RATE", d.faultRate, 0, 1),
    maxBodyBytes: readInteger(env, "MAX_BODY_BYTES", d.maxBodyBytes, 1_024, 64 * 1_048_576),
    maxWaitsPerCaller: readInteger(env, "MAX_WAITS_PER_CALLER", d.maxWaitsPerCaller, 1, 10_000_000),
    logLevel: readChoice(env, "LOG_LEVEL", "info", logLevels),
  };
}

function present(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
}

function readString(env: Env, name: string, fallback: string): string {
  return present(env, name)?.trim() ?? fallback;
}

function readNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = present(env, name);
  if (text === undefined) {
    return fallback;
  }
  const value = Number(text);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text) || value < min || value > max) {
    throw new ConfigError(name, text, `a number from ${min} to ${max}`);
  }
  return value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = present(env, name);
  if (text === undefined) {
    return fallback;
  }
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || value < min || value > max) {
    throw new ConfigError(name, text, `a whole number from ${min} to ${max}`);
  }
  return value;
}

function readDuration(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = present(env, name);
  if (text === undefined) {
    return fallback;
  }
  const value = parseDurationText(text);
  if (value === undefined || value < min || value > max) {
    const range = `from ${formatDurationText(min)} to ${formatDurationText(max)}`;
    throw new ConfigError(name, text, `a duration such as "30s", "500ms" or "1h", ${range}`);
  }
  return value;
}

function readChoice<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const text = present(env, name)?.trim();
  if (text === undefined) {
    return fallback;
  }
  if (!(choices as readonly string[]).includes(text)) {
    throw new ConfigError(name, text, `one of ${choices.join(", ")}`);
  }
  return text as T;
}
