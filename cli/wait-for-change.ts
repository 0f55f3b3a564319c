import { isTerminal, type Job } from "../client/index.js";
import type { Session } from "./session.js";

/**
 * Long-waits up to `waitMs` for the job's next change after `job` (as read just now), showing
 * its progress meanwhile, and resolves with the job as it then is: changed, or unchanged when the
 * time ran out. An ended job never changes, so it is returned at once.
 */
export async function waitForChange(session: Session, job: Job, waitMs: number): Promise<Job> {
  if (isTerminal(job) || waitMs <= 0) {
    return job;
  }
  const progress = session.progress();
  progress.update(job);
  const deadline = Date.now() + waitMs;
  let current = job;
  try {
    // The server holds a wait for at most its MAX_WAIT and answers unchanged then: ask again.
    for (let left = waitMs; current.version === job.version && left > 0; left = deadline - Date.now()) {
      const status = await session.client.getStatus(job.id, {
        waitMs: left,
        knownVersion: job.version,
        signal: session.signal,
      });
      current = status.job;
      progress.update(current);
    }
    return current;
  } finally {
    progress.finish(current);
  }
}
