import { formatDurationText, parseDurationText } from "./duration-text.js";
import { SERVICE_DEFAULTS as d, type ServiceSettings } from "./server-options.js";

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * Everything the server reads from its environment, parsed and validated. The service settings
 * come from MAX_WAIT, MAX_JOB_DURATION, SHORT_POLL_RATE, CREATE_RATE, FAULT_RATE, MAX_BODY_BYTES
 * and MAX_WAITS_PER_CALLER (defaults in SERVICE_DEFAULTS).
 * MAX_HELD_WAITS sets maxHeldWaits too.
 */
export interface ServerConfig extends ServiceSettings {
  /** PORT: the TCP port to listen on. @default 8000 */
  port: number;
  /** HOST: the address to listen on. @default "127.0.0.1" */
  host: string;
  /** JOB_STORE: where jobs live. @default "memory" */
  jobStore: "memory" | "redis";
  /** REDIS_URL: the Redis of JOB_STORE=redis. @default "redis://127.0.0.1:6379" */
  redisUrl: string;
  /** REDIS_PREFIX: put before every Redis key, so that deployments can share a Redis. @default "jobs:" */
  redisPrefix: string;
  /** LOG_LEVEL: the level of the server's log (pino). @default "info" */
  logLevel: (typeof logLevels)[number];
  /**
   * API_KEYS: comma-separated keys of 16 characters or more; JobService calls must present one.
   * Unset or empty: no keys, open to all. @default []
   */
  apiKeys: string[];
}

/** Thrown by loadConfig when a setting has a value the server cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The environment variable at fault. */
  readonly setting: string;

  /** `value` undefined leaves the value out of the message: for secrets such as API_KEYS. */
  constructor(setting: string, value: string | undefined, allowed: string) {
    const shown = value === undefined ? setting : `${setting}=${JSON.stringify(value)}`;
    super(`${shown} is not valid: expected ${allowed}`);
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
    jobStore: readChoice(env, "JOB_STORE", "memory", ["memory", "redis"] as const),
    redisUrl: readRedisUrl(env),
    redisPrefix: readString(env, "REDIS_PREFIX", "jobs:"),
    maxWaitMs: readDuration(env, "MAX_WAIT", d.maxWaitMs, 1, 3_600_000),
    maxJobDurationMs: readDuration(env, "MAX_JOB_DURATION", d.maxJobDurationMs, 0, 24 * 3_600_000),
    shortPollRate: readNumber(env, "SHORT_POLL_RATE", d.shortPollRate, 0, 1_000_000),
    createRate: readNumber(env, "CREATE_RATE", d.createRate, 0, 1_000_000),
    faultRate: readNumber(env, "FAULT_RATE", d.faultRate, 0, 1),
    maxBodyBytes: readInteger(env, "MAX_BODY_BYTES", d.maxBodyBytes, 1_024, 64 * 1_048_576),
    maxWaitsPerCaller: readInteger(env, "MAX_WAITS_PER_CALLER", d.maxWaitsPerCaller, 1, 10_000_000),
    jobRetentionMs: readDuration(env, "JOB_RETENTION", d.jobRetentionMs, 0, 365 * 86_400_000),
    idempotencyTtlMs: readDuration(env, "IDEMPOTENCY_TTL", d.idempotencyTtlMs, 1_000, 365 * 86_400_000),
    logLevel: readChoice(env, "LOG_LEVEL", "info", logLevels),
    maxHeldWaits: readInteger(env, "MAX_HELD_WAITS", d.maxHeldWaits, 1, 10_000_000),
    apiKeys: readApiKeys(env, "API_KEYS"),
  };
}

function readRedisUrl(env: Env): string {
  const text = readString(env, "REDIS_URL", "redis://127.0.0.1:6379");
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "redis:" && url.protocol !== "rediss:")) {
    // The URL may hold a password: name the setting, not the value.
    throw new ConfigError("REDIS_URL", undefined, "a redis:// or rediss:// URL such as redis://127.0.0.1:6379");
  }
  return text;
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

/** The shortest API key accepted. */
const MIN_API_KEY_LENGTH = 16;

// Keys are secrets: a bad one is named by its position, never by its value.
function readApiKeys(env: Env, name: string): string[] {
  const text = present(env, name);
  if (text === undefined) {
    return [];
  }
  const keys = text.split(",").map((key) => key.trim());
  keys.forEach((key, index) => {
    const problem =
      key === ""
        ? "is empty"
        : key.length < MIN_API_KEY_LENGTH
          ? `is shorter than ${MIN_API_KEY_LENGTH} characters`
          : /^[\x21-\x7e]+$/.test(key)
            ? undefined
            : "has a character that is not visible ASCII";
    if (problem !== undefined) {
      const allowed = `comma-separated keys of ${MIN_API_KEY_LENGTH} or more visible ASCII characters, but key ${index + 1} of ${keys.length} ${problem} (keys are not shown)`;
      throw new ConfigError(name, undefined, allowed);
    }
  });
  return keys;
}
