/**
 * The job service's client library: start jobs and wait for them, in browsers and Node.
 *
 * @example
 * import { JobClient, JOB_STATUS, POLLING_MODES } from "./client/index.js";
 *
 * const client = new JobClient({ baseUrl: "http://127.0.0.1:8000" });
 * const job = await client.createJob({ processingDurationMs: 5_000 });
 * const done = await client.awaitCompletion(job.id, { mode: POLLING_MODES.LONG, timeoutMs: 60_000 });
 * if (done.state === JOB_STATUS.ERROR) console.error(done.errorMessage);
 *
 * @module
 */

export type { JsonValue } from "@bufbuild/protobuf";
export type { Job, Progress } from "../gen/jobs/v1/job_pb.js";
export { JobState } from "../gen/jobs/v1/job_pb.js";
export type {
  AwaitCompletionOptions,
  CallOptions,
  CreateJobInput,
  GetStatusOptions,
  JobPage,
  ListJobsOptions,
  StatusResult,
  WatchOptions,
} from "./call-types.js";
export type { JobStatus, PollingMode } from "./constants.js";
export { isTerminal, JOB_STATUS, POLLING_MODES } from "./constants.js";
export type { JobClientErrorOptions } from "./errors.js";
export {
  CallAbortedError,
  DeadlineExceededError,
  JobClientError,
  JobNotFoundError,
  NetworkError,
  RateLimitError,
  ServerError,
} from "./errors.js";
export { JobClient } from "./job-client.js";
export type { JobClientOptions } from "./job-client-options.js";
export { CLIENT_DEFAULTS } from "./job-client-options.js";
export { jobInput, jobResult } from "./json/job-result.js";
export type { Logger } from "./logger.js";
export type { RetryOptions } from "./retries/retry-policy.js";
