/**
 * The job service's client library: start jobs and wait for them, or do them (JobWorker), in browsers and Node.
 *
 * @example
 * import { JobClient, JOB_STATUS, POLLING_MODES } from "./client/index.js";
 *
 * const client = new JobClient({ baseUrl: "http://127.0.0.1:8000" });
 * const job = await client.createJob({ processingDurationMs: 5_000 });
 * const done = await client.awaitCompletion(job.id, { mode: POLLING_MODES.LONG, timeoutMs: 60_000 });
 * if (done.state === JOB_STATUS.ERROR) console.error(done.errorMessage);
 *
 * @example
 * // Many jobs at once: one WatchJobs stream per 1000 jobs; a failed job is an outcome.
 * const jobs = await Promise.all([1_000, 2_000, 3_000].map((ms) => client.createJob({ processingDurationMs: ms })));
 * const ended = await client.awaitAll(jobs.map((j) => j.id), { timeoutMs: 60_000, onUpdate: (j) => console.log(j.id, j.state) });
 * const first = await client.awaitAny(jobs.map((j) => j.id)); // and the others are no longer followed
 *
 * @example
 * // Real work: a worker does the jobs of a kind, and the caller reads its result.
 * import { JobClient, JobWorker, jobInput, jobResult } from "./client/index.js";
 *
 * const baseUrl = "http://127.0.0.1:8000";
 * const worker = new JobWorker({
 *   baseUrl,
 *   kinds: ["sum"],
 *   handler: async (job, { progress }) => {
 *     const numbers = jobInput(job) as number[];
 *     progress(0.5, "adding");
 *     return numbers.reduce((a, b) => a + b, 0);
 *   },
 * });
 * worker.start();
 * const client = new JobClient({ baseUrl });
 * // createAndAwait: createJob and awaitCompletion in one call (the server holds the create).
 * console.log(jobResult(await client.createAndAwait({ kind: "sum", input: [1, 2, 3] }))); // 6
 * await worker.stop();
 *
 * @module
 */

export type { JsonValue } from "@bufbuild/protobuf";
export type { Job, Progress } from "../gen/jobs/v1/job_pb.js";
export { JobState } from "../gen/jobs/v1/job_pb.js";
export type {
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
export type { JobContext, JobHandler, JobOutcome } from "./worker/job-handler.js";
export type { StopOptions } from "./worker/job-worker.js";
export { JobWorker } from "./worker/job-worker.js";
export type { JobWorkerOptions } from "./worker/job-worker-options.js";
export { WORKER_DEFAULTS } from "./worker/job-worker-options.js";
export type { WorkAbortedWhy } from "./worker/worker-errors.js";
export { NonRetryableError, WorkAbortedError } from "./worker/worker-errors.js";
