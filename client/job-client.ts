import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import {
  type CallOptions as ConnectCallOptions,
  type Client,
  Code,
  ConnectError,
  createClient,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { type Job, JobState } from "../gen/jobs/v1/job_pb.js";
import { JobService } from "../gen/jobs/v1/job_service_pb.js";
import { awaitCompletion } from "./await-completion.js";
import { callWithRetries } from "./call-with-retries.js";
import { DeadlineExceededError, type JobClientError } from "./errors.js";
import {
  type AwaitCompletionOptions,
  type CallOptions,
  type JobClientOptions,
  type ResolvedClientOptions,
  requireNumber,
  resolveClientOptions,
} from "./job-client-options.js";
import { POLLING_MODES } from "./constants.js";
import { pollChanges } from "./poll-changes.js";
import { releasingStream } from "./releasing-stream.js";
import { newRequestId } from "./request-id.js";
import { type OpenStream, streamChanges } from "./stream-changes.js";
import { WaitScope } from "./wait-scope.js";

/** What createJob takes. */
export interface CreateJobInput {
  /** How long the simulated work takes, in ms. */
  processingDurationMs: number;
  /** End the job in ERROR instead of COMPLETED. @default false */
  shouldError?: boolean;
  /** Idempotency key (a UUID): retries with it never create a second job. @default a new random UUID */
  requestId?: string;
}

/** What getStatus answers. */
export interface StatusResult {
  /** The job as it is now. */
  job: Job;
  /** For a job not yet ended: wait at least this long before the next short poll, in ms. */
  nextPollAfterMs: number | undefined;
}

export interface GetStatusOptions extends CallOptions {
  /** Hold the call up to this long for a change after `knownVersion`, in ms. @default 0 (answer at once) */
  waitMs?: number;
  /** The version already seen; with waitMs, the server answers when the job's version differs. */
  knownVersion?: bigint;
}

export interface WatchOptions extends CallOptions {
  /** The version already seen: the first job yielded is the next one. @default 0 (none) */
  knownVersion?: bigint;
  /** Total time to follow the job, in ms; then DeadlineExceededError with the last job. @default no limit */
  timeoutMs?: number;
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

/** Extra time given to a long wait's request beyond the wait itself, for the answer to travel. */
const LONG_WAIT_GRACE_MS = 5_000;

/**
 * A client of the job service: starts jobs and waits for them as cheaply and promptly as the
 * server allows, retrying through rate limits, server errors and network faults.
 *
 * @example
 * const client = new JobClient({ baseUrl: "http://127.0.0.1:8000" });
 * const job = await client.createJob({ processingDurationMs: 2_000 });
 * const done = await client.awaitCompletion(job.id, { timeoutMs: 60_000 });
 * console.log(done.state === JOB_STATUS.COMPLETED ? "done" : done.errorMessage);
 */
export class JobClient {
  readonly #rpc: Client<typeof JobService>;
  readonly #options: ResolvedClientOptions;
  readonly #headers: Record<string, string>;

  constructor(options: JobClientOptions) {
    this.#options = resolveClientOptions(options);
    const transport: Transport | undefined =
      options.transport ?? (options.baseUrl === undefined ? undefined : createConnectTransport({ baseUrl: options.baseUrl }));
    if (transport === undefined) {
      throw new TypeError("JobClient needs a baseUrl or a transport");
    }
    this.#rpc = createClient(JobService, transport);
    this.#headers = this.#options.apiKey === undefined ? {} : { authorization: `Bearer ${this.#options.apiKey}` };
  }

  /**
   * Starts a job and returns it (PENDING). Retried safely: a request id is sent with every
   * create, so a retry never makes a second job.
   */
  createJob(input: CreateJobInput, options?: CallOptions): Promise<Job>;
  /** Starts a job taking `processingDurationMs`, ending in ERROR when `shouldError`. */
  createJob(processingDurationMs: number, shouldError?: boolean, options?: CallOptions): Promise<Job>;
  async createJob(
    first: CreateJobInput | number,
    second?: boolean | CallOptions,
    third?: CallOptions,
  ): Promise<Job> {
    const input = typeof first === "number" ? { processingDurationMs: first, shouldError: second === true } : first;
    const options = (typeof first === "number" ? third : (second as CallOptions | undefined)) ?? {};
    requireNumber("processingDurationMs", input.processingDurationMs, 0);
    const request = {
      processingDuration: durationFromMs(input.processingDurationMs),
      shouldError: input.shouldError ?? false,
      requestId: input.requestId ?? newRequestId(),
    };
    // With a request_id a repeated create returns the first job, so any failure may be retried.
    const safeToRepeat = request.requestId !== "";
    const { job } = await this.#unary("CreateJob", safeToRepeat, options, undefined, (callOptions) =>
      this.#rpc.createJob(request, callOptions),
    );
    return job as Job;
  }

  /**
   * Reads a job: at once by default, or, with `waitMs`, when it changes after `knownVersion`
   * (a long wait; it answers unchanged when the wait ends first). Throws JobNotFoundError for
   * an unknown id.
   */
  async getStatus(jobId: string, options: GetStatusOptions = {}): Promise<StatusResult> {
    const waitMs = options.waitMs ?? 0;
    requireNumber("waitMs", waitMs, 0);
    const request = { jobId, wait: durationFromMs(waitMs), knownVersion: options.knownVersion ?? 0n };
    const reply = await this.#unary(
      "GetStatus",
      true,
      options,
      jobId,
      (callOptions) => this.#rpc.getStatus(request, callOptions),
      waitMs,
    );
    return {
      job: reply.job as Job,
      nextPollAfterMs: reply.nextPollAfter === undefined ? undefined : durationMs(reply.nextPollAfter),
    };
  }

  /**
   * Resolves with the job once it has ended (COMPLETED, ERROR or CANCELLED: check `state`).
   * LONG mode (the default) holds one request per change; SHORT polls at `pollIntervalMs`;
   * STREAM follows a WatchJob stream (LONG where the server does not stream).
   * Rejects with DeadlineExceededError (carrying the last job seen) when `timeoutMs` runs out,
   * CallAbortedError when `signal` aborts, JobNotFoundError for an unknown id.
   */
  awaitCompletion(jobId: string, options: AwaitCompletionOptions = {}): Promise<Job> {
    return awaitCompletion(
      (id, status) => this.getStatus(id, status),
      this.#openStream(jobId),
      jobId,
      options,
      this.#options,
    );
  }

  /**
   * The job, then each of its changes, until it ends: `for await (const job of client.watch(id))`.
   * Backed by a WatchJob stream that resumes from the last version seen when it breaks, and by
   * long waits where the server does not stream. Breaking out of the loop ends the stream.
   * Throws as awaitCompletion does.
   */
  watch(jobId: string, options: WatchOptions = {}): AsyncIterable<Job> {
    if (options.timeoutMs !== undefined) {
      requireNumber("timeoutMs", options.timeoutMs, 0);
    }
    const scope = new WaitScope(jobId, options.timeoutMs, options.signal);
    const longWaits = () =>
      pollChanges((id, status) => this.getStatus(id, status), scope, POLLING_MODES.LONG, 0, this.#options);
    return streamChanges(this.#openStream(jobId), longWaits, scope, options.knownVersion ?? 0n, this.#options);
  }

  /**
   * Cancels a pending job and returns it (CANCELLED). A job that has ended already is a
   * JobClientError with code FAILED_PRECONDITION, unless this call's own earlier attempt
   * cancelled it and only the answer was lost: then the cancelled job is returned.
   */
  async cancelJob(jobId: string, options: CallOptions = {}): Promise<Job> {
    const { job } = await this.#unary("CancelJob", false, options, jobId, async (callOptions, retry) => {
      try {
        return await this.#rpc.cancelJob({ jobId }, callOptions);
      } catch (error) {
        if (retry > 0 && ConnectError.from(error).code === Code.FailedPrecondition) {
          const current = await this.#rpc.getStatus({ jobId }, callOptions);
          if (current.job?.state === JobState.CANCELLED) {
            return { job: current.job };
          }
        }
        throw error;
      }
    });
    return job as Job;
  }

  /** One page of jobs, newest first. */
  async listJobs(options: ListJobsOptions = {}): Promise<JobPage> {
    const request = { pageSize: options.pageSize ?? 0, pageToken: options.pageToken ?? "", state: options.state ?? 0 };
    const page = await this.#unary("ListJobs", true, options, undefined, (callOptions) =>
      this.#rpc.listJobs(request, callOptions),
    );
    return { jobs: page.jobs, nextPageToken: page.nextPageToken };
  }

  #openStream(jobId: string): OpenStream {
    return (knownVersion, { signal, timeoutMs }) =>
      releasingStream(
        (call) => this.#rpc.watchJob({ jobId, knownVersion }, { signal: call, timeoutMs, headers: this.#headers }),
        signal,
      );
  }

  /** One unary call with retries, each attempt bounded by the time left. */
  #unary<T>(
    method: string,
    safeToRepeat: boolean,
    options: CallOptions,
    jobId: string | undefined,
    call: (callOptions: ConnectCallOptions, retry: number) => Promise<T>,
    waitMs = 0,
  ): Promise<T> {
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined) {
      requireNumber("timeoutMs", timeoutMs, 0);
    }
    const attemptMs = waitMs > 0 ? waitMs + LONG_WAIT_GRACE_MS : this.#options.requestTimeoutMs;
    return callWithRetries(
      (remainingMs, retry) =>
        call(
          {
            signal,
            headers: this.#headers,
            timeoutMs: Math.max(1, Math.floor(Math.min(attemptMs, remainingMs ?? Infinity))),
          },
          retry,
        ),
      {
        method,
        safeToRepeat,
        deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
        signal,
        jobId,
        timeoutError: (cause: JobClientError | undefined) =>
          new DeadlineExceededError(`${method} did not succeed within ${timeoutMs} ms`, { cause }),
      },
      this.#options,
    );
  }
}
