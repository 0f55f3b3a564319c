import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { JobStore } from "../stores/job-store.js";

/** A job's changes heard since hearChanges was called, until stop(). */
export interface HeardChanges {
  /** `job` (read or written after hearChanges was called), or the newer version heard since. */
  newest(job: Job): Job;
  /** Stops listening and forgets what was heard. Safe to call twice. */
  stop(): void;
}

/**
 * Listens to a job before it is read (or written), so that the read and what was heard after
 * it together are the job as it is: a wait started from `newest(read)` while this still listens
 * needs no read of its own (WaitForChangeOptions.seenSubscribed). Stop it once the wait has
 * subscribed, so that a held wait keeps one listener, not two.
 */
export function hearChanges(store: Pick<JobStore, "subscribe">, jobId: string): HeardChanges {
  let heard: Job | undefined;
  let unsubscribe: (() => void) | undefined = store.subscribe(jobId, (changed) => {
    if (changed.version > (heard?.version ?? 0n)) {
      heard = changed;
    }
  });
  return {
    newest: (job) => (heard !== undefined && heard.version > job.version ? heard : job),
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      heard = undefined;
    },
  };
}
