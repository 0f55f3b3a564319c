import type { JsonValue } from "@bufbuild/protobuf";
import type { Job, JobState } from "../gen/jobs/v1/job_pb.js";
import type { PollingMode } from "./constants.js";

// What each JobClient call takes and answers. Apart from the client and its loops, so that
// both can name them without importing each other.

/** Options of every call. */
export interface CallOptions {
  /** Aborts the call, including its retries and sleeps; it then rejects with CallAbortedError. */
  signal?: AbortSignal;
  /** Total time for the call, retries included, in ms. @default no total; each attempt gets requestTimeoutMs */
  timeoutMs?: number;
}

/**
 * What createJob takes: a simulated job (`processingDurationMs`, `shouldError`), which the server
 * runs itself, or, with a `kind`, real work (`input`, `maxAttempts`) that a worker of that kind
 * claims (JobWorker). The two sets do not mix.
 */
export interface CreateJobInput {
  /** A simulated job: how long its work takes, in ms. Required without a kind; none with one. */
  processingDurationMs?: number;
  /** A simulated job: end it in ERROR instead of COMPLETED. @default false */
  shouldError?: boolean;
  /** Idempotency key (a UUID): retries with it never create a second job. @default a new random UUID */
  requestId?: string;
  /** Makes the job real work of this kind, done by a worker that claims it. @default none: a simulated job */
  kind?: string;
  /** A job of a kind: its input for the worker, any JSON value. @default none */
  input?: JsonValue;
  /** A job of a kind: how many attempts it may take before it ends in ERROR. @default the server's (3) */
  maxAttempts?: number;
}

export interface GetStatusOptions extends CallOptions {
  /** Hold the call up to this long for a change after `knownVersion`, in ms. @default 0 (answer at once) */
  waitMs?: number;
  /** The version already seen; with waitMs, the server answers when the job's version differs. */
  knownVersion?: bigint;
  /**
   * With waitMs: answer only once the job has ended (or the wait runs out), not at every change.
   * A server older than this option answers at the first change instead. @default false
   */
  untilTerminal?: boolean;
}

/** What getStatus answers. */
export interface StatusResult {
  /** The job as it is now. */
  job: Job;
  /** For a job not yet ended: wait at least this long before the next short poll, in ms. */
  nextPollAfterMs: number | undefined;
}

export interface AwaitCompletionOptions extends CallOptions {
  /** How to wait. @default POLLING_MODES.LONG */
  mode?: PollingMode;
  /** Total time to wait for the end, in ms; then DeadlineExceededError with the last job. @default no limit */
  timeoutMs?: number;
  /** SHORT mode: the interval between polls, in ms (the server's hint wins when longer). @default 1_000 */
  pollIntervalMs?: number;
  /** Called with the job each time a new version of it is seen, the first read included. */
  onUpdate?: (job: Job) => void;
}

export interface WatchOptions extends CallOptions {
  /** The version already seen: the first job yielded is the next one. @default 0 (none) */
  knownVersion?: bigint;
  /** Total time to follow the job, in ms; then DeadlineExceededError with the last job. @default no limit */
  timeoutMs?: number;
}

export interface WatchManyOptions extends CallOptions {
  /**
   * How to follow the jobs. STREAM: WatchJobs streams of up to 1000 jobs each, resumed from the
   * versions seen, with long waits per job where the server does not stream; LONG and SHORT:
   * each job on its own, as awaitCompletion would (up to 100 at once, the others in turn).
   * @default POLLING_MODES.STREAM
   */
  mode?: PollingMode;
  /** Total time to follow the jobs, in ms; then DeadlineExceededError with the last state of each. @default no limit */
  timeoutMs?: number;
  /** SHORT mode: the interval between polls of each job, in ms (the server's hint wins when longer). @default 1_000 */
  pollIntervalMs?: number;
}

export interface AwaitManyOptions extends WatchManyOptions {
  /** Called with each new version of each job, its first read included. */
  onUpdate?: (job: Job) => void;
}

export interface ListJobsOptions extends CallOptions {
  /** Most jobs in the page. @default the server's (50) */
  pageSize?: number;
  /** The nextPageToken of the previous page. */
  pageToken?: string;
  /** Only jobs in this state. @default any */
  state?: JobState;
}

export interface JobPage {
  /** Newest first. */
  jobs: Job[];
  /** Pass as pageToken for the next page; empty on the last page. */
  nextPageToken: string;
}
