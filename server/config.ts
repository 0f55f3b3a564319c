import proxyAddr from "@fastify/proxy-addr";
import { formatDurationText, parseDurationText } from "./duration-text.js";
import { SERVICE_DEFAULTS as d, type ServiceSettings } from "./server-options.js";

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * Everything the server reads from its environment, parsed and validated. The service settings
 * come from MAX_WAIT, MAX_JOB_DURATION, SHORT_POLL_RATE, CREATE_RATE, FAULT_RATE, MAX_BODY_BYTES
 * MAX_WAITS_PER_CALLER, MAX_HELD_WAITS, JOB_RETENTION, IDEMPOTENCY_TTL, MAX_ENDED_JOBS, LIST_RATE,
 * MAX_STREAMS_PER_CONNECTION, IDLE_TIMEOUT, REQUEST_TIMEOUT, SHUTDOWN_GRACE, DRAIN_TIMEOUT,
 * MAX_WATCHED_JOBS_PER_CALLER, MAX_PAYLOAD_BYTES, DEFAULT_LEASE, MAX_LEASE and LEASE_CHECK_INTERVAL (defaults in SERVICE_DEFAULTS).
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
  /**
   * WORKER_KEYS: comma-separated keys (as API_KEYS) that only WorkerService accepts, and that may
   * call nothing else. Needs API_KEYS: without keys, everything is open. @default []
   */
  workerKeys: string[];
  /**
   * TRUST_PROXY: comma-separated addresses or CIDR ranges of the proxies whose X-Forwarded-For is
   * believed (or "loopback", "linklocal", "uniquelocal"). Unset: none. @default []
   */
  trustProxy: string[];
  /** CORS_ORIGINS: comma-separated origins browsers may call from. Unset: any origin. @default undefined */
  corsOrigins: string[] | undefined;
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
    maxEndedJobs: readInteger(env, "MAX_ENDED_JOBS", d.maxEndedJobs, 1, 100_000_000),
    listRate: readNumber(env, "LIST_RATE", d.listRate, 0, 1_000_000),
    maxStreamsPerConnection: readInteger(env, "MAX_STREAMS_PER_CONNECTION", d.maxStreamsPerConnection, 1, 1_000_000),
    idleTimeoutMs: readDuration(env, "IDLE_TIMEOUT", d.idleTimeoutMs, 1_000, 3_600_000),
    requestTimeoutMs: readDuration(env, "REQUEST_TIMEOUT", d.requestTimeoutMs, 1_000, 600_000),
    shutdownGraceMs: readDuration(env, "SHUTDOWN_GRACE", d.shutdownGraceMs, 0, 600_000),
    drainTimeoutMs: readDuration(env, "DRAIN_TIMEOUT", d.drainTimeoutMs, 0, 600_000),
    trustProxy: readTrustProxy(env, "TRUST_PROXY"),
    corsOrigins: readOrigins(env, "CORS_ORIGINS"),
    maxWatchedJobsPerCaller: readInteger(env, "MAX_WATCHED_JOBS_PER_CALLER", d.maxWatchedJobsPerCaller, 1, 100_000_000),
    maxPayloadBytes: readInteger(env, "MAX_PAYLOAD_BYTES", d.maxPayloadBytes, 1, 16 * 1_048_576),
    defaultLeaseMs: readDuration(env, "DEFAULT_LEASE", d.defaultLeaseMs, 1_000, 3_600_000),
    maxLeaseMs: readDuration(env, "MAX_LEASE", d.maxLeaseMs, 1_000, 24 * 3_600_000),
    leaseCheckMs: readDuration(env, "LEASE_CHECK_INTERVAL", d.leaseCheckMs, 50, 600_000),
    workerKeys: readWorkerKeys(env),
  };
}

function readWorkerKeys(env: Env): string[] {
  const keys = readApiKeys(env, "WORKER_KEYS");
  if (keys.length > 0 && present(env, "API_KEYS") === undefined) {
    throw new ConfigError("WORKER_KEYS", undefined, "to be set only with API_KEYS (without API keys, anyone may work)");
  }
  return keys;
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

function readList(env: Env, name: string): string[] | undefined {
  const text = present(env, name);
  return text === undefined ? undefined : text.split(",").map((item) => item.trim());
}

function readTrustProxy(env: Env, name: string): string[] {
  const proxies = readList(env, name) ?? [];
  try {
    // proxy-addr is what reads X-Forwarded-For; it knows which entries it accepts.
    proxyAddr.compile(proxies);
  } catch {
    throw new ConfigError(
      name,
      present(env, name),
      'comma-separated IP addresses or CIDR ranges, such as "10.0.0.0/8,192.168.1.7", or loopback, linklocal, uniquelocal',
    );
  }
  return proxies;
}

function readOrigins(env: Env, name: string): string[] | undefined {
  const origins = readList(env, name);
  for (const origin of origins ?? []) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.origin !== origin) {
      throw new ConfigError(
        name,
        present(env, name),
        `comma-separated origins such as "https://app.example.com,http://localhost:5173" (scheme, host and port only; ${JSON.stringify(origin)} is not one)`,
      );
    }
  }
  return origins;
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
