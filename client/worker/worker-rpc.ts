import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { type Client, type CallOptions as ConnectCallOptions, createClient } from "@connectrpc/connect";
import {
  type ClaimJobResponse,
  type CompleteJobRequest,
  type CompleteJobResponse,
  type FailJobRequest,
  type FailJobResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  WorkerService,
} from "../../gen/jobs/v1/worker_service_pb.js";
import type { Connection } from "../connection.js";
import { DeadlineExceededError } from "../errors.js";
import { LONG_WAIT_GRACE_MS } from "../job-client-options.js";
import { callWithRetries } from "../retries/call-with-retries.js";
import { toJobClientError } from "../retries/to-job-client-error.js";
import type { ResolvedWorkerOptions } from "./job-worker-options.js";

/** The calls about one claimed job: retried until the lease runs out, abortable. */
export interface LeaseCallOptions {
  /** When the lease runs out (ms since the epoch): no attempt is made past it. */
  deadline: number;
  signal?: AbortSignal;
}

/** The request fields of a call about a claimed job (the message type apart). */
type RequestOf<T> = Omit<T, "$typeName" | "$unknown">;

/**
 * The WorkerService calls a JobWorker makes, each throwing a JobClientError. A claim is made
 * once (its loop decides on retries); the calls about a claimed job are retried as JobClient's
 * are, all of them safe to repeat: a repeat after a lost answer changes nothing, or is
 * FAILED_PRECONDITION once the job has ended.
 */
export class WorkerRpc {
  readonly #rpc: Client<typeof WorkerService>;
  readonly #headers: Record<string, string>;
  readonly #settings: ResolvedWorkerOptions;

  constructor(connection: Connection, settings: ResolvedWorkerOptions) {
    this.#rpc = createClient(WorkerService, connection.transport);
    this.#headers = connection.headers;
    this.#settings = settings;
  }

  /** One ClaimJob, held by the server up to claimWaitMs; answers without a job when none came. */
  async claim(signal: AbortSignal): Promise<ClaimJobResponse> {
    const { claimWaitMs } = this.#settings;
    const request = { ...this.#claimRequest(), wait: durationFromMs(claimWaitMs) };
    try {
      return await this.#rpc.claimJob(request, { signal, headers: this.#headers, timeoutMs: claimWaitMs + LONG_WAIT_GRACE_MS });
    } catch (error) {
      throw toJobClientError(error, { signal });
    }
  }

  heartbeat(request: RequestOf<HeartbeatRequest>, options: LeaseCallOptions): Promise<HeartbeatResponse> {
    return this.#unary("Heartbeat", request.jobId, options, (call) => this.#rpc.heartbeat(request, call));
  }

  /**
   * CompleteJob; with `claimNext`, its first attempt also claims the worker's next job if one is
   * waiting (CompleteJobResponse.next). A repeat does not: the first one's answer may have been
   * lost with a job in it, which then comes back when its lease runs out.
   */
  complete(
    request: Omit<RequestOf<CompleteJobRequest>, "claimNext">,
    options: LeaseCallOptions & { claimNext?: boolean },
  ): Promise<CompleteJobResponse> {
    let claimNext = options.claimNext === true ? this.#claimRequest() : undefined;
    return this.#unary("CompleteJob", request.jobId, options, (call) => {
      const sent = { ...request, claimNext };
      claimNext = undefined;
      return this.#rpc.completeJob(sent, call);
    });
  }

  /** What every claim of this worker asks (a held ClaimJob adds its wait). */
  #claimRequest() {
    const { kinds, workerId, leaseMs } = this.#settings;
    return { kinds, workerId, leaseDuration: durationFromMs(leaseMs) };
  }

  fail(request: RequestOf<FailJobRequest>, options: LeaseCallOptions): Promise<FailJobResponse> {
    return this.#unary("FailJob", request.jobId, options, (call) => this.#rpc.failJob(request, call));
  }

  #unary<T>(
    method: string,
    jobId: string,
    { deadline, signal }: LeaseCallOptions,
    call: (options: ConnectCallOptions) => Promise<T>,
  ): Promise<T> {
    const { requestTimeoutMs } = this.#settings;
    return callWithRetries(
      (remainingMs) =>
        call({
          signal,
          headers: this.#headers,
          timeoutMs: Math.max(1, Math.floor(Math.min(requestTimeoutMs, remainingMs ?? Infinity))),
        }),
      {
        method,
        safeToRepeat: true,
        deadline,
        signal,
        jobId,
        timeoutError: (cause) =>
          new DeadlineExceededError(`${method} did not succeed before the lease of job ${jobId} ran out`, { cause }),
      },
      this.#settings,
    );
  }
}
