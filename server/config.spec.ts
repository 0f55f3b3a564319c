import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";
import { SERVICE_DEFAULTS } from "./server-options.js";

describe("server configuration", () => {
  it("defaults to the documented values", () => {
    expect(SERVICE_DEFAULTS).toEqual({
      maxWaitMs: 30_000,
      maxJobDurationMs: 3_600_000,
      shortPollRate: 10,
      createRate: 10,
      faultRate: 0,
      maxBodyBytes: 262_144,
      maxWaitsPerCaller: 500,
      maxHeldWaits: 10_000,
      jobRetentionMs: 86_400_000,
      idempotencyTtlMs: 86_400_000,
      maxEndedJobs: 100_000,
      listRate: 10,
      maxStreamsPerConnection: 1_000,
      idleTimeoutMs: 65_000,
      requestTimeoutMs: 30_000,
      shutdownGraceMs: 0,
      drainTimeoutMs: 5_000,
      maxWatchedJobsPerCaller: 10_000,
      maxPayloadBytes: 65_536,
      defaultLeaseMs: 30_000,
      maxLeaseMs: 600_000,
      leaseCheckMs: 5_000,
    });
    expect(loadConfig({})).toEqual({
      ...SERVICE_DEFAULTS,
      trustProxy: [],
      corsOrigins: undefined,
      port: 8000,
      host: "127.0.0.1",
      jobStore: "memory",
      redisUrl: "redis://127.0.0.1:6379",
      redisPrefix: "jobs:",
      logLevel: "info",
      apiKeys: [],
      workerKeys: [],
    });
  });

  it("reads the workers' settings, and WORKER_KEYS only beside API_KEYS", () => {
    const keys = { API_KEYS: "a-client-key-of-16+", WORKER_KEYS: "a-worker-key-of-16+" };
    expect(
      loadConfig({ ...keys, MAX_PAYLOAD_BYTES: "1000", DEFAULT_LEASE: "10s", MAX_LEASE: "1m", LEASE_CHECK_INTERVAL: "1s" }),
    ).toMatchObject({
      workerKeys: ["a-worker-key-of-16+"],
      maxPayloadBytes: 1_000,
      defaultLeaseMs: 10_000,
      maxLeaseMs: 60_000,
      leaseCheckMs: 1_000,
    });
    expect(() => loadConfig({ WORKER_KEYS: "a-worker-key-of-16+" })).toThrow(/WORKER_KEYS.*only with API_KEYS/);
    expect(() => loadConfig({ ...keys, WORKER_KEYS: "short" })).toThrow(/WORKER_KEYS.*key 1 of 1 is shorter/);
    expect(() => loadConfig({ MAX_LEASE: "0s" })).toThrow(/MAX_LEASE/);
  });

  it("reads each setting", () => {
    const config = loadConfig({
      PORT: "9000",
      HOST: "0.0.0.0",
      JOB_STORE: "redis",
      REDIS_URL: "redis://:secret@redis.internal:6380/2",
      REDIS_PREFIX: "staging:",
      JOB_RETENTION: "1h",
      IDEMPOTENCY_TTL: "10m",
      MAX_WAIT: "1.5m",
      MAX_JOB_DURATION: "2h",
      SHORT_POLL_RATE: "0",
      CREATE_RATE: "2.5",
      FAULT_RATE: "0.25",
      MAX_BODY_BYTES: "2048",
      MAX_WAITS_PER_CALLER: "3",
      MAX_HELD_WAITS: "20000",
      LOG_LEVEL: "warn",
      MAX_ENDED_JOBS: "5000",
      LIST_RATE: "2",
      MAX_STREAMS_PER_CONNECTION: "100",
      IDLE_TIMEOUT: "2m",
      REQUEST_TIMEOUT: "10s",
      SHUTDOWN_GRACE: "0",
      DRAIN_TIMEOUT: "1s",
      TRUST_PROXY: "10.0.0.0/8, loopback",
      CORS_ORIGINS: "https://app.example.com,http://localhost:5173",
    });
    expect(config).toMatchObject({
      port: 9000,
      host: "0.0.0.0",
      jobStore: "redis",
      redisUrl: "redis://:secret@redis.internal:6380/2",
      redisPrefix: "staging:",
      jobRetentionMs: 3_600_000,
      idempotencyTtlMs: 600_000,
      maxWaitMs: 90_000,
      maxJobDurationMs: 7_200_000,
      shortPollRate: 0,
      createRate: 2.5,
      faultRate: 0.25,
      maxBodyBytes: 2_048,
      maxWaitsPerCaller: 3,
      maxHeldWaits: 20_000,
      logLevel: "warn",
      maxEndedJobs: 5_000,
      listRate: 2,
      maxStreamsPerConnection: 100,
      idleTimeoutMs: 120_000,
      requestTimeoutMs: 10_000,
      shutdownGraceMs: 0,
      drainTimeoutMs: 1_000,
      trustProxy: ["10.0.0.0/8", "loopback"],
      corsOrigins: ["https://app.example.com", "http://localhost:5173"],
    });
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["MAX_WAIT", "30"],
    ["MAX_WAIT", "-1s"],
    ["FAULT_RATE", "1.5"],
    ["SHORT_POLL_RATE", "fast"],
    ["JOB_STORE", "postgres"],
    ["LOG_LEVEL", "loud"],
    ["MAX_HELD_WAITS", "0"],
    ["MAX_HELD_WAITS", "10000001"],
    ["MAX_STREAMS_PER_CONNECTION", "0"],
    ["REQUEST_TIMEOUT", "0"],
    ["SHUTDOWN_GRACE", "-1s"],
    ["TRUST_PROXY", "10.0.0.0/33"],
    ["TRUST_PROXY", "proxy.internal"],
    ["CORS_ORIGINS", "app.example.com"],
    ["CORS_ORIGINS", "https://app.example.com/"],
  ])("refuses %s=%s with one line naming the setting, the value and what is allowed", (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(name);
    expect((error as ConfigError).message).toMatch(
      new RegExp(`^${name}="${value.replace(/[.]/g, "\\.")}" is not valid: expected .+`),
    );
    expect((error as ConfigError).message).not.toMatch(/\n/);
  });
});

describe("API_KEYS", () => {
  const keyA = "key-a-0123456789abcdef";
  const keyB = "key-b-0123456789abcdef";

  it("reads a comma-separated list, trimming each key", () => {
    expect(loadConfig({ API_KEYS: ` ${keyA} ,${keyB}` }).apiKeys).toEqual([keyA, keyB]);
  });

  it("is open (no keys) when unset or empty", () => {
    expect(loadConfig({}).apiKeys).toEqual([]);
    expect(loadConfig({ API_KEYS: "  " }).apiKeys).toEqual([]);
  });

  it.each([
    ["a key shorter than 16 characters", `${keyA},short-secret`, "key 2 of 2 is shorter than 16 characters"],
    ["an empty entry", `${keyA},,${keyB}`, "key 2 of 3 is empty"],
    ["a trailing comma", `${keyA},`, "key 2 of 2 is empty"],
    ["a key with a space inside", "key with spaces 0123456789", "key 1 of 1 has a character that is not visible ASCII"],
  ])("refuses %s, naming its position but never the keys", (_, value, problem) => {
    let error: unknown;
    try {
      loadConfig({ API_KEYS: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { setting, message } = error as ConfigError;
    expect(setting).toBe("API_KEYS");
    expect(message).toMatch(/^API_KEYS is not valid: expected .+/);
    expect(message).toContain(problem);
    for (const key of value.split(",").filter((key) => key.trim() !== "")) {
      expect(message).not.toContain(key.trim());
    }
    expect(message).not.toContain("short-secret");
  });

  it("refuses a REDIS_URL that is not a redis URL without repeating it (it may hold a password)", () => {
    expect(() => loadConfig({ REDIS_URL: "http://user:hunter2@example" })).toThrow(
      /^REDIS_URL is not valid: expected a redis:\/\//,
    );
    expect(() => loadConfig({ REDIS_URL: "http://user:hunter2@example" })).not.toThrow(/hunter2/);
  });
});
