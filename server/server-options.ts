import type { FastifyServerOptions } from "fastify";
import type { Clock } from "./clock.js";
import type { JobStore } from "./stores/job-store.js";
import type { HeldWaits } from "./waits/held-waits.js";

/** How the service behaves; each has a default and an environment variable (see config.ts). */
export interface ServiceSettings {
  /** The longest a long wait is held, in ms. @default 30_000 */
  maxWaitMs: number;
  /** The longest processing_duration accepted, in ms. @default 3_600_000 */
  maxJobDurationMs: number;
  /** Short polls per second per caller; 0 = unlimited. @default 10 */
  shortPollRate: number;
  /** Creates per second per caller; 0 = unlimited. @default 10 */
  createRate: number;
  /** Share of calls failed on purpose with UNAVAILABLE or INTERNAL, 0-1. @default 0 */
  faultRate: number;
  /** The largest request body read; larger ones are refused unread. @default 262_144 */
  maxBodyBytes: number;
  /** The most long waits and watches one caller may hold at once; more are RESOURCE_EXHAUSTED. @default 500 */
  maxWaitsPerCaller: number;
  /** How long an ended job is kept (by either store), counted from its end, in ms; 0 keeps it for ever. @default 86_400_000 */
  jobRetentionMs: number;
  /** How long the store (either) remembers a request_id for idempotent creates, counted from the create, in ms. @default 86_400_000 */
  idempotencyTtlMs: number;
  /**
   * The most long waits and watches held at once by all callers; holding one more answers the
   * oldest early with its unchanged job (a watch ends with RESOURCE_EXHAUSTED). @default 10_000
   */
  maxHeldWaits: number;
  /**
   * The most ended jobs (and request ids) the memory store holds: past it the oldest go before
   * their JOB_RETENTION (IDEMPOTENCY_TTL), so memory stays bounded at any rate. Redis bounds
   * itself (maxmemory). @default 100_000
   */
  maxEndedJobs: number;
  /** ListJobs calls per second per caller; 0 = unlimited. @default 10 */
  listRate: number;
  /**
   * The most streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS);
   * more are refused with REFUSED_STREAM, which clients retry. @default 1_000
   */
  maxStreamsPerConnection: number;
  /** A connection with no request in flight is closed after this long, in ms. @default 65_000 */
  idleTimeoutMs: number;
  /**
   * The longest a client may take to send a whole request (headers and body), in ms; slower ones
   * are refused and their connection or stream closed. Held answers are not limited by it. @default 30_000
   */
  requestTimeoutMs: number;
  /**
   * How long, after SIGTERM, the port keeps answering (health NOT_SERVING, new JobService calls
   * UNAVAILABLE, connections told to go) before it closes, so load balancers can drain, in ms. @default 0
   */
  shutdownGraceMs: number;
  /**
   * How long closing waits for answers in flight once the grace is over; connections still busy
   * then (a stuck upload, a dead peer) are cut, in ms. @default 5_000
   */
  drainTimeoutMs: number;
  /**
   * The most jobs one caller may watch at once on WatchJobs streams (each stream also counts as
   * one held wait). @default 10_000
   */
  maxWatchedJobsPerCaller: number;
  /** The largest input (CreateJob) and result (CompleteJob) of a job of a kind, as JSON, in bytes. @default 65_536 */
  maxPayloadBytes: number;
  /** The lease of a claim that asks for none, in ms. @default 30_000 */
  defaultLeaseMs: number;
  /** The longest lease granted; longer ones are clamped, in ms. @default 600_000 */
  maxLeaseMs: number;
  /**
   * How often leases are checked for expiry on Redis (BullMQ's stalledInterval), in ms: a job
   * whose worker died goes back to the queue within its lease plus one to two of these. On memory
   * each lease has its own timer. @default 5_000
   */
  leaseCheckMs: number;
}

/** The defaults of ServiceSettings, in one place. */
export const SERVICE_DEFAULTS: Readonly<ServiceSettings> = Object.freeze({
  maxWaitMs: 30_000,
  maxJobDurationMs: 3_600_000,
  shortPollRate: 10,
  createRate: 10,
  faultRate: 0,
  maxBodyBytes: 262_144,
  maxWaitsPerCaller: 500,
  jobRetentionMs: 86_400_000,
  idempotencyTtlMs: 86_400_000,
  maxHeldWaits: 10_000,
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

/** What buildServer takes: settings (defaults filled in) and the parts a caller may supply. */
export interface ServerOptions extends Partial<ServiceSettings> {
  /** Where jobs live. @default a new in-memory store (or a Redis one with `redis`), closed with the server */
  store?: JobStore;
  /**
   * Keep jobs, processing, idempotency keys and rate-limit counters in this Redis, shared with
   * every instance that uses the same `prefix`. @default none: all in this process
   */
  redis?: { url: string; prefix: string };
  /** @default Date */
  clock?: Clock;
  /** The registry of held waits, for a caller that wants to watch it (its own caps apply). @default a new one with maxWaitsPerCaller and maxHeldWaits */
  heldWaits?: HeldWaits;
  /** Random numbers for fault injection. @default Math.random */
  random?: () => number;
  /** Fastify's logger option: false for none, or pino options. @default false */
  logger?: FastifyServerOptions["logger"];
  /**
   * Serve the hottest unary calls (GetStatus, CreateJob, ClaimJob, CompleteJob) in their common
   * forms (Connect unary, gRPC) on the lean path (fast-path/), the same wire protocol without the
   * router's per-call machinery; false sends them through Connect's router like everything else
   * (tests compare the two). @default true
   */
  leanPath?: boolean;
  /** The built browser page served at `/` (npm run build:web). @default `<repo>/jobs/dist/web` */
  pageDir?: string;
  /**
   * API keys JobService calls must present (`authorization: Bearer <key>` or `x-api-key`); each
   * key sees only its own jobs. Empty: no keys, open to all, as one shared space. @default []
   */
  apiKeys?: readonly string[];
  /**
   * With apiKeys, the keys of workers: only they may call WorkerService, and they may call
   * nothing else (PERMISSION_DENIED). Ignored without apiKeys. @default []
   */
  workerKeys?: readonly string[];
  /**
   * The proxies whose `X-Forwarded-For` is believed (addresses, CIDR ranges, or proxy-addr's
   * "loopback", "linklocal", "uniquelocal"): a call through them is the address they name. Empty:
   * the caller is the peer address, whatever the header says. @default []
   */
  trustProxy?: readonly string[];
  /** The origins browsers may call from (`https://app.example.com`); undefined: any. @default undefined */
  corsOrigins?: readonly string[];
}

/** Copies `options` with every setting filled in and checked. */
export function resolveServiceSettings(options: Partial<ServiceSettings>): ServiceSettings {
  const settings: ServiceSettings = {
    maxWaitMs: options.maxWaitMs ?? SERVICE_DEFAULTS.maxWaitMs,
    maxJobDurationMs: options.maxJobDurationMs ?? SERVICE_DEFAULTS.maxJobDurationMs,
    shortPollRate: options.shortPollRate ?? SERVICE_DEFAULTS.shortPollRate,
    createRate: options.createRate ?? SERVICE_DEFAULTS.createRate,
    faultRate: options.faultRate ?? SERVICE_DEFAULTS.faultRate,
    maxBodyBytes: options.maxBodyBytes ?? SERVICE_DEFAULTS.maxBodyBytes,
    maxWaitsPerCaller: options.maxWaitsPerCaller ?? SERVICE_DEFAULTS.maxWaitsPerCaller,
    jobRetentionMs: options.jobRetentionMs ?? SERVICE_DEFAULTS.jobRetentionMs,
    idempotencyTtlMs: options.idempotencyTtlMs ?? SERVICE_DEFAULTS.idempotencyTtlMs,
    maxHeldWaits: options.maxHeldWaits ?? SERVICE_DEFAULTS.maxHeldWaits,
    maxEndedJobs: options.maxEndedJobs ?? SERVICE_DEFAULTS.maxEndedJobs,
    listRate: options.listRate ?? SERVICE_DEFAULTS.listRate,
    maxStreamsPerConnection: options.maxStreamsPerConnection ?? SERVICE_DEFAULTS.maxStreamsPerConnection,
    idleTimeoutMs: options.idleTimeoutMs ?? SERVICE_DEFAULTS.idleTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? SERVICE_DEFAULTS.requestTimeoutMs,
    shutdownGraceMs: options.shutdownGraceMs ?? SERVICE_DEFAULTS.shutdownGraceMs,
    drainTimeoutMs: options.drainTimeoutMs ?? SERVICE_DEFAULTS.drainTimeoutMs,
    maxWatchedJobsPerCaller: options.maxWatchedJobsPerCaller ?? SERVICE_DEFAULTS.maxWatchedJobsPerCaller,
    maxPayloadBytes: options.maxPayloadBytes ?? SERVICE_DEFAULTS.maxPayloadBytes,
    defaultLeaseMs: options.defaultLeaseMs ?? SERVICE_DEFAULTS.defaultLeaseMs,
    maxLeaseMs: options.maxLeaseMs ?? SERVICE_DEFAULTS.maxLeaseMs,
    leaseCheckMs: options.leaseCheckMs ?? SERVICE_DEFAULTS.leaseCheckMs,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${name} must be a finite number >= 0, got ${value}`);
    }
  }
  if (settings.faultRate > 1) {
    throw new RangeError(`faultRate must be from 0 to 1, got ${settings.faultRate}`);
  }
  if (settings.defaultLeaseMs > settings.maxLeaseMs) {
    throw new RangeError(
      `defaultLeaseMs (${settings.defaultLeaseMs}) must not be longer than maxLeaseMs (${settings.maxLeaseMs})`,
    );
  }
  for (const name of [
    "maxHeldWaits",
    "maxStreamsPerConnection",
    "idleTimeoutMs",
    "requestTimeoutMs",
    "maxPayloadBytes",
    "defaultLeaseMs",
    "leaseCheckMs",
  ] as const) {
    if (settings[name] < 1) {
      throw new RangeError(`${name} must be at least 1, got ${settings[name]}`);
    }
  }
  return settings;
}
