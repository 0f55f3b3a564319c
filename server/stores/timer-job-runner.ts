import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { Clock } from "../clock.js";
import { type JobRunner, simulatedOutcome } from "./job-runner.js";
import type { JobStore } from "./job-store.js";

export interface TimerJobRunnerOptions {
  store: JobStore;
  clock: Clock;
  /** Told about a job that could not be finished (the store failed). */
  onError: (error: unknown, jobId: string) => void;
}

/**
 * Runs jobs in this process with one timer per pending job: one process, nothing durable.
 * Starting a job that has a timer already does nothing, so a repeated create adds none.
 * A job cancelled meanwhile is left as it is (the store only finishes pending jobs).
 */
export function createTimerJobRunner({ store, clock, onError }: TimerJobRunnerOptions): JobRunner {
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  let closed = false;

  return {
    start(job: Job) {
      if (closed || timers.has(job.id)) {
        return Promise.resolve();
      }
      const due = job.estimatedCompletionTime === undefined ? 0 : timestampMs(job.estimatedCompletionTime);
      const timer = setTimeout(
        () => {
          timers.delete(job.id);
          store.finish(job.id, simulatedOutcome(job, clock.now())).catch((error: unknown) => onError(error, job.id));
        },
        Math.max(0, due - clock.now()),
      );
      timers.set(job.id, timer);
      return Promise.resolve();
    },
    close() {
      closed = true;
      for (const timer of timers.values()) {
        clearTimeout(timer);
      }
      timers.clear();
      return Promise.resolve();
    },
  };
}
