import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Job } from "../gen/jobs/v1/job_pb.js";
import type { Clock } from "./clock.js";
import { type JobRunner, simulatedOutcome } from "./job-runner.js";
import type { JobStore } from "./job-store.js";
import { createTimerJobRunner } from "./timer-job-runner.js";

const QUEUE = "finish-jobs";

export interface BullmqJobRunnerOptions {
  store: JobStore;
  clock: Clock;
  /** A connection for BullMQ (it duplicates it as it needs); must have maxRetriesPerRequest: null. */
  connection: Redis;
  /** BullMQ's key prefix. */
  prefix: string;
  /** How many jobs this instance finishes at once. @default 64 */
  concurrency?: number;
  /** Told about failures that no caller sees. */
  onError: (error: unknown, jobId?: string) => void;
}

interface FinishTask {
  jobId: string;
}

/** How long an idle worker blocks before looking again for due tasks, in s: BullMQ's
 * drainDelay, and so the longest a task due on a dead instance's watch waits for another. */
const DRAIN_DELAY_S = 1;

/**
 * Runs the simulated work on a durable BullMQ queue in Redis: starting a job adds a delayed task
 * due at its estimated end, and whichever instance's worker takes the task finishes the job. A
 * task left by an instance that died is taken by another (BullMQ's stalled-job check), and tasks
 * not yet due stay in Redis for every instance, so losing an instance loses no job.
 *
 * The instance that starts a job also keeps a timer for it, which finishes it on time (BullMQ's
 * delayed tasks run some tens of ms late); the task then finds the job ended and does nothing.
 * Finishing is compare-and-set in the store, so the two never both change the job.
 */
export function createBullmqJobRunner(options: BullmqJobRunnerOptions): JobRunner {
  const { store, clock, connection, prefix, onError } = options;
  const queue = new Queue<FinishTask>(QUEUE, { connection, prefix });
  const worker = new Worker<FinishTask>(
    QUEUE,
    async (task) => {
      const stored = await store.get(task.data.jobId);
      if (stored === undefined) {
        // The task is added before the job is stored, so a short job's task may come first; the
        // retries wait for the record (and give up if its create failed, leaving nothing behind).
        throw new Error(`job ${task.data.jobId} is not stored (yet)`);
      }
      await store.finish(stored.job.id, simulatedOutcome(stored.job, clock.now()));
    },
    { connection, prefix, concurrency: options.concurrency ?? 64, drainDelay: DRAIN_DELAY_S },
  );
  const timers = createTimerJobRunner({ store, clock, onError });
  queue.on("error", (error) => onError(error));
  worker.on("error", (error) => onError(error));
  worker.on("failed", (task, error) => {
    // Attempts that will be retried are routine (see above); only the last one is news.
    if (task === undefined || task.attemptsMade >= (task.opts.attempts ?? 1)) {
      onError(error, task?.data.jobId);
    }
  });
  let closing: Promise<void> | undefined;

  return {
    async start(job: Job) {
      const due = job.estimatedCompletionTime === undefined ? 0 : timestampMs(job.estimatedCompletionTime);
      await queue.add(
        "finish",
        { jobId: job.id },
        {
          jobId: job.id,
          delay: Math.max(0, due - clock.now()),
          // Finishing fails when Redis does or the job is not stored yet: try again for about
          // 100 s (100 ms doubling, 10 times) before giving up.
          attempts: 10,
          backoff: { type: "exponential", delay: 100 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      );
      await timers.start(job);
    },
    close() {
      // Stops taking tasks and waits for those in hand; tasks not yet due stay for the others.
      closing ??= (async () => {
        await timers.close();
        await worker.close();
        await queue.close();
      })();
      return closing;
    },
  };
}
