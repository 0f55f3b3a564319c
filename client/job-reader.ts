import type { WatchJobResponse, WatchJobsResponse } from "../gen/jobs/v1/job_service_pb.js";
import type { GetStatusOptions, StatusResult } from "./call-types.js";

/** The call options a WatchJob stream is opened with. */
export interface OpenStreamOptions {
  /** The version already seen: the stream starts with the next one. */
  knownVersion: bigint;
  signal: AbortSignal | undefined;
  /** The call's whole time, in ms; undefined for none. */
  timeoutMs: number | undefined;
}

/** The call options a WatchJobs stream is opened with. */
export interface OpenManyStreamOptions {
  /** At most 1000 ids, without repeats. */
  jobIds: string[];
  /** The version seen of each job, in the order of jobIds (0 for none). */
  knownVersions: bigint[];
  signal: AbortSignal | undefined;
  /** The call's whole time, in ms; undefined for none. */
  timeoutMs: number | undefined;
}

/**
 * What the loops that follow jobs (awaitCompletion, watch, awaitAll, watchMany) need of a
 * client: its ways of reading jobs. JobClient gives one over itself; tests may give their own.
 */
export interface JobReader {
  /** GetStatus with the client's retries, as JobClient.getStatus. */
  getStatus(jobId: string, options: GetStatusOptions): Promise<StatusResult>;
  /**
   * Opens a WatchJob stream. Leaving the stream before its end (its iterator's `return()`) must
   * end the call and release it (releasingStream).
   */
  openStream(jobId: string, options: OpenStreamOptions): AsyncIterable<WatchJobResponse>;
  /** Opens a WatchJobs stream; leaving it before its end must release it, as openStream's. */
  openManyStream(options: OpenManyStreamOptions): AsyncIterable<WatchJobsResponse>;
}
