import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { type Client, Code, type CallOptions as ConnectCallOptions, ConnectError, createClient } from "@connectrpc/connect";
import { type Job, JobState } from "../gen/jobs/v1/job_pb.js";
import { JobService, type WatchJobResponse, type WatchJobsResponse } from "../gen/jobs/v1/job_service_pb.js";
import type {
  AwaitCompletionOptions,
  AwaitManyOptions,
  CallOptions,
  CreateJobInput,
  GetStatusOptions,
  JobPage,
  ListJobsOptions,
  StatusResult,
  WatchManyOptions,
  WatchOptions,
} from "./call-types.js";
import { openConnection } from "./connection.js";
import { isTerminal, POLLING_MODES } from "./constants.js";
import { createJobRequest } from "./create-job-request.js";
import { DeadlineExceededError, type JobClientError } from "./errors.js";
import {
  type JobClientOptions,
  LONG_WAIT_GRACE_MS,
  type ResolvedClientOptions,
  requireNumber,
  resolveClientOptions,
} from "./job-client-options.js";
import type { JobReader, OpenManyStreamOptions, OpenStreamOptions } from "./job-reader.js";
import { callWithRetries } from "./retries/call-with-retries.js";
import { awaitCompletion, resolveAwaitOptions } from "./waits/await-completion.js";
import { awaitAll, awaitAny } from "./waits/await-many.js";
import { MIN_LONG_WAIT_MS, pollChanges } from "./waits/poll-changes.js";
import { releasingStream } from "./waits/releasing-stream.js";
import { streamChanges } from "./waits/stream-changes.js";
import { WaitScope } from "./waits/wait-scope.js";
import { planMany, watchMany } from "./waits/watch-many.js";

/** One unary call of #unary: what it is, for retries and logs, and its caller's options. */
interface UnaryCall {
  /** The RPC, for logs and errors. */
  method: string;
  /** Whether the call may run twice without harm (reads; creates with a request_id). */
  safeToRepeat: boolean;
  options: CallOptions;
  /** The job the call is about, for JobNotFoundError. */
  jobId?: string;
  /** The long wait asked of the server, in ms: each attempt gets that much more time. @default 0 */
  waitMs?: number;
}

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
  /** What the wait loops read the job with. */
  readonly #reader: JobReader;

  constructor(options: JobClientOptions) {
    this.#options = resolveClientOptions(options);
    const { transport, headers } = openConnection(options, "JobClient");
    this.#rpc = createClient(JobService, transport);
    this.#headers = headers;
    this.#reader = {
      getStatus: (jobId, status) => this.getStatus(jobId, status),
      openStream: (jobId, stream) => this.#openStream(jobId, stream),
      openManyStream: (stream) => this.#openManyStream(stream),
    };
  }

  /**
   * Starts a job and returns it (PENDING): a simulated one (`processingDurationMs`), or, with a
   * `kind`, real work for a worker of that kind, with `input` (any JSON value) and `maxAttempts`.
   * Retried safely: a request id is sent with every create, so a retry never makes a second job.
   * Throws RangeError, before any call, for input the server would refuse that is cheap to see.
   */
  createJob(input: CreateJobInput, options?: CallOptions): Promise<Job>;
  /** Starts a job taking `processingDurationMs`, ending in ERROR when `shouldError`. */
  createJob(processingDurationMs: number, shouldError?: boolean, options?: CallOptions): Promise<Job>;
  async createJob(first: CreateJobInput | number, second?: boolean | CallOptions, third?: CallOptions): Promise<Job> {
    const input = typeof first === "number" ? { processingDurationMs: first, shouldError: second === true } : first;
    const options = (typeof first === "number" ? third : (second as CallOptions | undefined)) ?? {};
    return (await this.#create(input, options, 0)).job;
  }

  /**
   * Starts a job and resolves with it once it has ended (COMPLETED, ERROR or CANCELLED: check
   * `state`), as createJob then awaitCompletion would, under one `timeoutMs` and `signal`. In
   * LONG mode without onUpdate (the default) the server holds the create itself until the job
   * ends (CreateJobRequest.wait), so a job that ends within the long wait costs one call; in the
   * other modes, with onUpdate, on a server that answers at once, or past the long wait, the
   * job is followed as awaitCompletion follows it. Throws RangeError, before any call, for
   * options or input that awaitCompletion or createJob refuse; rejects as they do.
   *
   * @example
   * const done = await client.createAndAwait({ kind: "sum", input: [1, 2] }, { timeoutMs: 60_000 });
   */
  async createAndAwait(input: CreateJobInput, options: AwaitCompletionOptions = {}): Promise<Job> {
    const startedAt = Date.now();
    const resolved = resolveAwaitOptions(options);
    const { timeoutMs, signal } = resolved;
    const endOnly = resolved.mode === POLLING_MODES.LONG && resolved.onUpdate === undefined;
    const waitMs = endOnly ? Math.min(this.#options.longWaitMs, timeoutMs ?? Infinity) : 0;
    const { job, nextPollAfterMs } = await this.#create(input, { signal, timeoutMs }, waitMs);
    if (isTerminal(job)) {
      resolved.onUpdate?.(job);
      return job;
    }
    // The time and signal the follow-up runs under too, with the created job as last seen.
    const scope = new WaitScope(job.id, timeoutMs, signal, startedAt);
    scope.see(job);
    // The server could not hold the create to the end (it is closing or shedding waits): not at once.
    if (nextPollAfterMs !== undefined) {
      await scope.pause(nextPollAfterMs);
    }
    // A hold that took (nearly) all the time leaves none for a long wait: the job as it was is the news.
    if (scope.remaining() < MIN_LONG_WAIT_MS) {
      throw scope.timedOut();
    }
    return awaitCompletion(job.id, resolved, { reader: this.#reader, settings: this.#options }, startedAt);
  }

  /**
   * Reads a job: at once by default, or, with `waitMs`, when it changes after `knownVersion`
   * (a long wait; it answers unchanged when the wait ends first), or with `untilTerminal` too,
   * when it ends. Throws JobNotFoundError for an unknown id.
   */
  async getStatus(jobId: string, options: GetStatusOptions = {}): Promise<StatusResult> {
    const waitMs = options.waitMs ?? 0;
    requireNumber("waitMs", waitMs, 0);
    const request = {
      jobId,
      wait: durationFromMs(waitMs),
      knownVersion: options.knownVersion ?? 0n,
      untilTerminal: options.untilTerminal ?? false,
    };
    const reply = await this.#unary({ method: "GetStatus", safeToRepeat: true, options, jobId, waitMs }, (callOptions) =>
      this.#rpc.getStatus(request, callOptions),
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
    return awaitCompletion(jobId, options, { reader: this.#reader, settings: this.#options });
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
    const reader = this.#reader;
    const settings = this.#options;
    const longWaits = () => pollChanges({ reader, settings, scope, mode: POLLING_MODES.LONG, pollIntervalMs: 0 });
    return streamChanges({ reader, settings, scope, knownVersion: options.knownVersion ?? 0n, fallback: longWaits });
  }

  /**
   * Resolves with every job once all have ended, in the order of `jobIds` (a repeated id,
   * repeated). A job that ended in ERROR or CANCELLED is an outcome, as COMPLETED is: check each
   * `state`. By default one WatchJobs stream follows up to 1000 jobs (more ids are split over
   * several streams), resumed from the versions seen when it breaks, and long waits follow each
   * job where the server does not stream; `mode` LONG or SHORT follows each job on its own.
   * `onUpdate` hears each new version of each job. Rejects with JobNotFoundError when ids name
   * no job (`jobIds` lists those the server named together: all of them for up to 1000 ids on
   * a server that streams, and then before any job is reported), DeadlineExceededError (with
   * each job as last seen in `lastJobs`) when `timeoutMs` runs out, CallAbortedError when
   * `signal` aborts. Resolves with `[]` for no ids.
   */
  awaitAll(jobIds: readonly string[], options: AwaitManyOptions = {}): Promise<Job[]> {
    return awaitAll(jobIds, options, { reader: this.#reader, settings: this.#options });
  }

  /**
   * Resolves with the first of the jobs to end (COMPLETED, ERROR or CANCELLED), and stops
   * following the others. Waits, reports and rejects as awaitAll does; rejects with RangeError
   * for no ids.
   */
  awaitAny(jobIds: readonly string[], options: AwaitManyOptions = {}): Promise<Job> {
    return awaitAny(jobIds, options, { reader: this.#reader, settings: this.#options });
  }

  /**
   * Each new version of each job, every job first as it is now, until all have ended:
   * `for await (const job of client.watchMany(ids))`, one job at a time (the jobs of one
   * server message one after another). Backed by what awaitAll uses; breaking out of the loop
   * ends its streams and waits. Throws as awaitAll rejects.
   */
  watchMany(jobIds: readonly string[], options: WatchManyOptions = {}): AsyncIterable<Job> {
    planMany(options);
    return watchMany(jobIds, options, { reader: this.#reader, settings: this.#options });
  }

  /**
   * Cancels a pending job and returns it (CANCELLED). A job that has ended already is a
   * JobClientError with code FAILED_PRECONDITION, unless this call's own earlier attempt
   * cancelled it and only the answer was lost: then the cancelled job is returned.
   */
  async cancelJob(jobId: string, options: CallOptions = {}): Promise<Job> {
    const { job } = await this.#unary(
      { method: "CancelJob", safeToRepeat: false, options, jobId },
      async (callOptions, retry) => {
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
      },
    );
    return job as Job;
  }

  /** One page of jobs, newest first. */
  async listJobs(options: ListJobsOptions = {}): Promise<JobPage> {
    const request = { pageSize: options.pageSize ?? 0, pageToken: options.pageToken ?? "", state: options.state ?? 0 };
    const page = await this.#unary({ method: "ListJobs", safeToRepeat: true, options }, (callOptions) =>
      this.#rpc.listJobs(request, callOptions),
    );
    return { jobs: page.jobs, nextPageToken: page.nextPageToken };
  }

  #openStream(jobId: string, { knownVersion, signal, timeoutMs }: OpenStreamOptions): AsyncIterable<WatchJobResponse> {
    return releasingStream(
      (call) => this.#rpc.watchJob({ jobId, knownVersion }, { signal: call, timeoutMs, headers: this.#headers }),
      signal,
    );
  }

  #openManyStream({ jobIds, knownVersions, signal, timeoutMs }: OpenManyStreamOptions): AsyncIterable<WatchJobsResponse> {
    return releasingStream(
      (call) => this.#rpc.watchJobs({ jobIds, knownVersions }, { signal: call, timeoutMs, headers: this.#headers }),
      signal,
    );
  }

  /** CreateJob, held by the server for up to `waitMs` for the job's end (0: answered at once). */
  async #create(
    input: CreateJobInput,
    options: CallOptions,
    waitMs: number,
  ): Promise<{ job: Job; nextPollAfterMs: number | undefined }> {
    const request = { ...createJobRequest(input), wait: waitMs > 0 ? durationFromMs(waitMs) : undefined };
    // With a request_id a repeated create returns the first job, so any failure may be retried.
    const safeToRepeat = request.requestId !== "";
    const reply = await this.#unary({ method: "CreateJob", safeToRepeat, options, waitMs }, (callOptions) =>
      this.#rpc.createJob(request, callOptions),
    );
    return {
      job: reply.job as Job,
      nextPollAfterMs: reply.nextPollAfter === undefined ? undefined : durationMs(reply.nextPollAfter),
    };
  }

  /** One unary call with retries, each attempt bounded by the time left. */
  #unary<T>(
    { method, safeToRepeat, options, jobId, waitMs = 0 }: UnaryCall,
    call: (callOptions: ConnectCallOptions, retry: number) => Promise<T>,
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
