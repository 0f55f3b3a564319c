import type { Job, PollingMode } from "../client/index.js";
import type { Session } from "./session.js";

export interface WaitForEndOptions {
  mode: PollingMode;
  /** @default no limit */
  timeoutMs?: number;
  /** The job as already known (just created, say), shown at once. */
  known?: Job;
}

/**
 * Waits for a job to end with awaitCompletion, showing its progress meanwhile, and resolves with
 * the ended job. Throws as awaitCompletion does (DeadlineExceededError, CallAbortedError, ...),
 * with the progress finished first so the error line lands on a clean line.
 */
export async function waitForEnd(session: Session, jobId: string, options: WaitForEndOptions): Promise<Job> {
  const progress = session.progress();
  let last = options.known;
  if (last !== undefined) {
    progress.update(last);
  }
  try {
    last = await session.client.awaitCompletion(jobId, {
      mode: options.mode,
      timeoutMs: options.timeoutMs,
      signal: session.signal,
      onUpdate: (job) => {
        last = job;
        progress.update(job);
      },
    });
    return last;
  } finally {
    progress.finish(last);
  }
}
