import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Job } from "../gen/jobs/v1/job_pb.js";
import { JobState } from "../gen/jobs/v1/job_pb.js";
import type { Clock } from "./clock.js";
import type { JobRunner } from "./job-runner.js";
import type { JobStore } from "./job-store.js";

/** The message of a job created with should_error. */
export const SIMULATED_ERROR_MESSAGE = "the job failed as requested (should_error was set)";

export interface TimerJobRunnerOptions {
  store: JobStore;
  clock: Clock;
  /** Told about a job that could not be finished (the store failed). */
  onError: (error: unknown, job: Job) => void;
}

/**
 * Runs jobs in this process with one timer per pending job: one process, nothing durable.
 * A job cancelled meanwhile is left as it is (the store only finishes pending jobs).
 */
export function createTimerJobRunner({ store, clock, onError }: TimerJobRunnerOptions): JobRunner {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let closed = false;

  function finish(job: Job): void {
    const outcome = job.shouldError
      ? { state: JobState.ERROR as const, errorMessage: SIMULATED_ERROR_MESSAGE, at: clock.now() }
      : { state: JobState.COMPLETED as const, at: clock.now() };
    store.finish(job.id, outcome).catch((error: unknown) => onError(error, job));
  }

  return {
    start(job) {
      if (closed) {
        return;
      }
      const due = job.estimatedCompletionTime === undefined ? 0 : timestampMs(job.estimatedCompletionTime);
      const delay = Math.max(0, due - clock.now());
      const timer = setTimeout(() => {
        timers.delete(timer);
        finish(job);
      }, delay);
      timers.add(timer);
    },
    close() {
      closed = true;
      for (const timer of timers) {
        clearTimeout(timer);
      }
      timers.clear();
      return Promise.resolve();
    },
  };
}
