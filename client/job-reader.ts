import type { WatchJobResponse } from "../gen/jobs/v1/job_service_pb.js";
import type { GetStatusOptions, StatusResult } from "./call-types.js";

/** The call options a WatchJob stream is opened with. */
export interface OpenStreamOptions {
  /** The version already seen: the stream starts with the next one. */
  knownVersion: bigint;
  signal: AbortSignal | undefined;
  /** The call's whole time, in ms; undefined for none. */
  timeoutMs: number | undefined;
}

/**
 * What the loops that follow a job (awaitCompletion, watch) need of a client: its two ways of
 * reading one job. JobClient gives one over itself; tests may give their own.
 */
export interface JobReader {
  /** GetStatus with the client's retries, as JobClient.getStatus. */
  getStatus(jobId: string, options: GetStatusOptions): Promise<StatusResult>;
  /**
   * Opens a WatchJob stream. Leaving the stream before its end (its iterator's `return()`) must
   * end the call and release it (releasingStream).
   */
  openStream(jobId: string, options: OpenStreamOptions): AsyncIterable<WatchJobResponse>;
}
