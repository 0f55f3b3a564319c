import {
  CallAbortedError,
  CLIENT_DEFAULTS,
  DeadlineExceededError,
  isTerminal,
  JOB_STATUS,
  JobClient,
  JobClientError,
  JobNotFoundError,
  JobState,
  NetworkError,
  POLLING_MODES,
  RateLimitError,
  ServerError,
} from "../client/index.js";

/**
 * The client library as the page exposes it on `window.jobs`, for tests and for trying it from
 * the browser's console:
 *
 * @example
 * const client = new jobs.JobClient({ baseUrl: location.origin });
 * const job = await client.createJob({ processingDurationMs: 2_000 });
 * await client.awaitCompletion(job.id, { onUpdate: (j) => console.log(jobs.JobState[j.state]) });
 */
export const pageApi = Object.freeze({
  JobClient,
  JOB_STATUS,
  POLLING_MODES,
  JobState,
  CLIENT_DEFAULTS,
  isTerminal,
  JobClientError,
  NetworkError,
  RateLimitError,
  ServerError,
  JobNotFoundError,
  DeadlineExceededError,
  CallAbortedError,
});

export type PageApi = typeof pageApi;

declare global {
  interface Window {
    /** The client library, set by the page's script (web/app.ts). */
    jobs: PageApi;
  }
}
