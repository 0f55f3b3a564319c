import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import { type Job, JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import { JobListeners } from "./job-listeners.js";
import type {
  CreateResult,
  FinishResult,
  JobChange,
  JobListener,
  JobStore,
  ListPage,
  ListQuery,
  Outcome,
  StoredJob,
} from "./job-store.js";
import { endedJob } from "./job-store.js";
import { RecentJobs } from "./recent-jobs.js";

export interface RedisJobStoreOptions {
  /**
   * For commands; the store duplicates it once for its subscriber. Not closed by the store. Its
   * options decide how fast calls fail while Redis is away (see redis-backend.ts).
   */
  redis: Redis;
  /** Put before every key and channel, so that several deployments can share one Redis. */
  prefix: string;
  /** How long a request id is remembered for idempotent creates, in ms. */
  idempotencyTtlMs: number;
  /** How long an ended job is kept, in ms; 0 keeps it for ever. */
  retentionMs: number;
  /**
   * Told about failures that no caller sees: a subscription refused, a re-read for listeners
   * that failed other than by Redis being away. Redis being away is not reported here.
   */
  onError: (error: unknown) => void;
}

// Creates a job atomically: the request id check, the position, the record and its indexes.
// KEYS: job, seq, owner's index of all jobs, owner's index of PENDING jobs, request id, counts.
// ARGV: id, data, owner, request ttl (ms, "0" = no request id), job key prefix.
const createScript = `
if ARGV[4] ~= "0" then
  local earlier = redis.call("GET", KEYS[5])
  if earlier and redis.call("EXISTS", ARGV[5] .. earlier) == 1 then
    return {0, earlier}
  end
end
local seq = redis.call("INCR", KEYS[2])
redis.call("HSET", KEYS[1], "data", ARGV[2], "owner", ARGV[3], "seq", seq, "version", "1")
redis.call("ZADD", KEYS[3], seq, ARGV[1])
redis.call("ZADD", KEYS[4], seq, ARGV[1])
redis.call("HINCRBY", KEYS[6], "PENDING", 1)
if ARGV[4] ~= "0" then
  redis.call("SET", KEYS[5], ARGV[1], "PX", ARGV[4])
end
return {1, ARGV[1]}
`;

// Ends a job if its version is still the one read (compare-and-set), moves it between state
// indexes, starts its retention and publishes the change.
// KEYS: job, owner's index of PENDING jobs, owner's index of the new state, counts.
// ARGV: expected version, data, new version, retention (ms, "0" = keep), id, channel, new state.
const finishScript = `
local version = redis.call("HGET", KEYS[1], "version")
if not version then return -1 end
if version ~= ARGV[1] then return 0 end
redis.call("HSET", KEYS[1], "data", ARGV[2], "version", ARGV[3])
local seq = redis.call("HGET", KEYS[1], "seq")
redis.call("ZREM", KEYS[2], ARGV[5])
redis.call("ZADD", KEYS[3], seq, ARGV[5])
redis.call("HINCRBY", KEYS[4], "PENDING", -1)
redis.call("HINCRBY", KEYS[4], ARGV[7], 1)
if ARGV[4] ~= "0" then redis.call("PEXPIRE", KEYS[1], ARGV[4]) end
redis.call("PUBLISH", ARGV[6], ARGV[5] .. " " .. ARGV[3])
return 1
`;

// Changes a pending job if its version is still the one read (compare-and-set) and publishes it.
// KEYS: job. ARGV: expected version, data, new version, id, channel.
const updateScript = `
local version = redis.call("HGET", KEYS[1], "version")
if not version then return -1 end
if version ~= ARGV[1] then return 0 end
redis.call("HSET", KEYS[1], "data", ARGV[2], "version", ARGV[3])
redis.call("PUBLISH", ARGV[5], ARGV[4] .. " " .. ARGV[3])
return 1
`;

type ScriptedRedis = Redis & {
  createJob(...args: (string | Buffer)[]): Promise<[number, string]>;
  finishJob(...args: (string | Buffer)[]): Promise<number>;
  updateJob(...args: (string | Buffer)[]): Promise<number>;
};

/**
 * Keeps jobs in Redis, for many server instances at once. Each job is a hash (the Job message,
 * its owner, its position and version) changed only by Lua scripts, so every change is atomic
 * and compare-and-set on the version. A change publishes the job's id on one channel; each
 * instance has one subscriber for it and re-reads the record for its local listeners, so the
 * record stays the truth and the message only a hint.
 *
 * Messages published while the subscriber is away are lost, so each time it subscribes again
 * and each time the command connection is back, every job with local listeners is re-read and
 * told if it changed since they were last told.
 */
export function createRedisJobStore(options: RedisJobStoreOptions): JobStore {
  return new RedisJobStore(options);
}

class RedisJobStore implements JobStore {
  private readonly redis: ScriptedRedis;
  private readonly subscriber: Redis;
  private readonly channel: string;
  private readonly listeners = new JobListeners();
  /** What this instance wrote and read last: the first guess of each compare-and-set. */
  private readonly recent = new RecentJobs();
  /** The version the latest write under way of each job would store, by job id. */
  private readonly writing = new Map<string, bigint>();
  /** Re-reads under way, by job id; true when another change came in meanwhile. */
  private readonly refreshing = new Map<string, boolean>();
  /** Whether the last attempt to subscribe failed, so that a run of failures is told once. */
  private subscribeFailed = false;
  /** Whether the subscriber has subscribed once: only later subscriptions follow a loss. */
  private subscribedBefore = false;
  /** Whether the command connection closed since it was last ready. */
  private commandsLost = false;
  private closed = false;
  private readonly onCommandsClose = (): void => {
    this.commandsLost = true;
  };
  private readonly onCommandsReady = (): void => {
    if (this.commandsLost) {
      this.commandsLost = false;
      this.rereadAll();
    }
  };

  constructor(private readonly options: RedisJobStoreOptions) {
    this.redis = options.redis as ScriptedRedis;
    this.redis.defineCommand("createJob", { numberOfKeys: 6, lua: createScript });
    this.redis.defineCommand("finishJob", { numberOfKeys: 4, lua: finishScript });
    this.redis.defineCommand("updateJob", { numberOfKeys: 1, lua: updateScript });
    this.channel = `${options.prefix}changes`;
    // Subscribed on each "ready" by subscribeAndReread, not by ioredis's own resubscription,
    // so that the re-read comes after the subscription is in place.
    this.subscriber = options.redis.duplicate({ autoResubscribe: false });
    // Its losses are Redis being away, which the backend reports; it reconnects by itself.
    this.subscriber.on("error", () => undefined);
    // "<id> <version>": a change this process made and told its listeners of already is not
    // read again.
    this.subscriber.on("message", (_channel: string, message: string) => {
      const [id = "", version] = message.split(" ");
      if (version === undefined || !/^\d+$/.test(version)) {
        this.changed(id);
        return;
      }
      // Not read again: a version the listeners were told of, or a change of ours (told when
      // its script answers: the message may come first).
      const heard = BigInt(version);
      if (!this.listeners.told(id, heard) && this.writing.get(id) !== heard) {
        this.changed(id);
      }
    });
    this.subscriber.on("ready", () => void this.subscribeAndReread());
    this.redis.on("close", this.onCommandsClose);
    this.redis.on("ready", this.onCommandsReady);
  }

  async create(job: Job, owner: string): Promise<CreateResult> {
    const { prefix, idempotencyTtlMs } = this.options;
    const withRequest = job.requestId !== "";
    const data = Buffer.from(toBinary(JobSchema, job));
    const [created, id] = await this.guard(
      this.redis.createJob(
        this.jobKey(job.id),
        `${prefix}seq`,
        this.indexKey(owner),
        this.indexKey(owner, JobState.PENDING),
        `${prefix}request:${owner}:${job.requestId}`,
        this.countsKey(),
        job.id,
        data,
        owner,
        withRequest ? String(Math.max(1, idempotencyTtlMs)) : "0",
        `${prefix}job:`,
      ),
    );
    if (created === 1) {
      this.recent.keep({ job, owner }, data.length);
      return { job, created: true };
    }
    const earlier = await this.get(id);
    if (earlier === undefined) {
      throw new ConnectError("the job of an earlier request with this request_id is gone", Code.Aborted);
    }
    return { job: earlier.job, created: false };
  }

  async get(id: string): Promise<StoredJob | undefined> {
    const [data, owner] = await this.guard(this.redis.hmgetBuffer(this.jobKey(id), "data", "owner"));
    if (data === null || data === undefined || owner === null || owner === undefined) {
      this.recent.forget(id);
      return undefined;
    }
    const stored = { job: fromBinary(JobSchema, data), owner: owner.toString() };
    this.recent.keep(stored, data.length);
    return stored;
  }

  async lastSeen(id: string): Promise<StoredJob | undefined> {
    return this.recent.get(id) ?? (await this.get(id));
  }

  finish(id: string, outcome: Outcome, seen?: StoredJob): Promise<FinishResult | undefined> {
    return this.compareAndSet(
      id,
      seen,
      (stored) => endedJob(stored.job, outcome),
      (stored, job, data) =>
        this.redis.finishJob(
          this.jobKey(id),
          this.indexKey(stored.owner, JobState.PENDING),
          this.indexKey(stored.owner, outcome.state),
          this.countsKey(),
          String(stored.job.version),
          data,
          String(job.version),
          String(this.options.retentionMs),
          id,
          this.channel,
          JobState[outcome.state],
        ),
    );
  }

  update(id: string, change: JobChange, seen?: StoredJob): Promise<FinishResult | undefined> {
    return this.compareAndSet(
      id,
      seen,
      (stored) => change(stored.job),
      (stored, job, data) =>
        this.redis.updateJob(this.jobKey(id), String(stored.job.version), data, String(job.version), id, this.channel),
    );
  }

  /**
   * Changes a pending job compare-and-set on its version: `next` makes the job as it should be
   * from the one stored (undefined: no change), `write` runs the script that stores it (`data`,
   * encoded) if the version is still the one read (1), finds no job (-1) or finds it changed (0:
   * read again and decide anew). `seen`, the job as the caller has just read it, is tried first,
   * else this instance's last sight of it (RecentJobs); that guess only saves the read when it
   * leads to a write: "no change" is never decided on it, but on the job read again.
   */
  private async compareAndSet(
    id: string,
    seen: StoredJob | undefined,
    next: (stored: StoredJob) => Job | undefined,
    write: (stored: StoredJob, job: Job, data: Buffer) => Promise<number>,
  ): Promise<FinishResult | undefined> {
    let guess = seen === undefined ? this.recent.get(id) : undefined;
    for (let first = true; ; first = false) {
      const stored = guess ?? (first && seen !== undefined ? seen : await this.get(id));
      const guessed = guess !== undefined;
      guess = undefined;
      if (stored === undefined) {
        return undefined;
      }
      const job = stored.job.state === JobState.PENDING ? next(stored) : undefined;
      if (job === undefined) {
        if (guessed) {
          continue;
        }
        return { job: stored.job, changed: false };
      }
      const data = Buffer.from(toBinary(JobSchema, job));
      this.writing.set(id, job.version);
      let result: number;
      try {
        result = await this.guard(write(stored, job, data));
      } finally {
        if (this.writing.get(id) === job.version) {
          this.writing.delete(id);
        }
      }
      if (result === 1) {
        this.recent.keep({ job, owner: stored.owner }, data.length);
        // Told here at once: the published change is only for the other instances, and for
        // waits on this one it would be a read of what we just wrote.
        this.listeners.tell(job);
        return { job, changed: true };
      }
      if (result === -1) {
        this.recent.forget(id);
        return undefined;
      }
    }
  }

  async list(query: ListQuery): Promise<ListPage> {
    const index = this.indexKey(query.owner, query.state);
    const jobs: Job[] = [];
    let before = query.after === undefined ? "+inf" : `(${query.after}`;
    let more = false;
    // Reads one more than asked, to know whether a next page exists; ids whose record has
    // expired (retention) are dropped from the index as they are met.
    while (jobs.length <= query.limit) {
      const want = query.limit + 1 - jobs.length;
      const entries = await this.guard(this.redis.zrevrangebyscore(index, before, "-inf", "WITHSCORES", "LIMIT", 0, want));
      if (entries.length === 0) {
        break;
      }
      const ids = entries.filter((_, i) => i % 2 === 0);
      const records = await Promise.all(ids.map((id) => this.get(id)));
      const gone: string[] = [];
      records.forEach((record, i) => {
        if (record === undefined) {
          gone.push(ids[i] as string);
        } else if (jobs.length < query.limit) {
          jobs.push(record.job);
        } else {
          more = true;
        }
      });
      if (gone.length > 0) {
        await this.guard(this.redis.zrem(index, ...gone));
      }
      if (more || ids.length < want) {
        break;
      }
      before = `(${entries[entries.length - 1]}`;
    }
    if (!more || jobs.length === 0) {
      return { jobs };
    }
    const last = await this.guard(this.redis.zscore(index, (jobs[jobs.length - 1] as Job).id));
    return { jobs, next: last === null ? undefined : Number(last) };
  }

  async counts(): Promise<Record<string, number>> {
    const counts = await this.guard(this.redis.hgetall(this.countsKey()));
    return Object.fromEntries(Object.entries(counts).map(([state, count]) => [state, Number(count)]));
  }

  subscribe(id: string, listener: JobListener): () => void {
    return this.listeners.add(id, listener);
  }

  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.listeners.clear();
    this.redis.off("close", this.onCommandsClose);
    this.redis.off("ready", this.onCommandsReady);
    // Not quit(): a subscriber has nothing to finish, and quit() waits for a Redis that may be away.
    this.subscriber.disconnect();
  }

  /**
   * Subscribes, and after a reconnection re-reads every job with local listeners: changes
   * published while the subscriber was away were lost, and those after the subscription will
   * be heard.
   */
  private async subscribeAndReread(): Promise<void> {
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      if (!this.closed) {
        if (!this.subscribeFailed) {
          this.options.onError(error);
        }
        this.subscribeFailed = true;
        // Connected but not subscribed: reconnect, to try again on the next "ready".
        this.subscriber.disconnect(true);
      }
      return;
    }
    this.subscribeFailed = false;
    if (this.subscribedBefore) {
      this.rereadAll();
    }
    this.subscribedBefore = true;
  }

  private rereadAll(): void {
    for (const id of this.listeners.ids()) {
      this.changed(id);
    }
  }

  /** A change was published: re-read the job for its local listeners, once at a time per job. */
  private changed(id: string): void {
    if (!this.listeners.has(id)) {
      return;
    }
    if (this.refreshing.has(id)) {
      this.refreshing.set(id, true);
      return;
    }
    this.refreshing.set(id, false);
    void this.refresh(id);
  }

  private async refresh(id: string): Promise<void> {
    try {
      const stored = await this.get(id);
      if (stored !== undefined) {
        // Told once: the message of another instance's change can come after a read of it.
        this.listeners.tellIfNews(stored.job);
      }
    } catch (error) {
      // Redis being away is not news: when the connection is back, every listened job is
      // re-read. (A command that timed out on a connection that stayed up is not read again.)
      if (!(error instanceof ConnectError && error.code === Code.Unavailable)) {
        this.options.onError(error);
      }
    }
    const again = this.refreshing.get(id) === true;
    this.refreshing.delete(id);
    if (again) {
      this.changed(id);
    }
  }

  /** Jobs by state, over every owner; ended jobs stay counted after their retention. */
  private countsKey(): string {
    return `${this.options.prefix}counts`;
  }

  private jobKey(id: string): string {
    return `${this.options.prefix}job:${id}`;
  }

  private indexKey(owner: string, state?: JobState): string {
    return `${this.options.prefix}owner:${owner}:${state === undefined ? "all" : JobState[state]}`;
  }

  /**
   * Redis failures reach callers as UNAVAILABLE: the store is away, and a retry may succeed.
   * The driver's message (host names, its internals) stays in the cause, for the log.
   */
  private async guard<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      throw new ConnectError("the job store is unavailable", Code.Unavailable, undefined, undefined, error);
    }
  }
}
