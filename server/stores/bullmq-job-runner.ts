import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { Clock } from "../clock.js";
import { settleWithin } from "../settle-within.js";
import { type JobRunner, simulatedOutcome } from "./job-runner.js";
import type { JobStore } from "./job-store.js";
import { createTimerJobRunner } from "./timer-job-runner.js";

const QUEUE = "finish-jobs";

export interface BullmqJobRunnerOptions {
  store: JobStore;
  clock: Clock;
  /**
   * The worker's connection (BullMQ duplicates it for its blocking reads): it must have
   * maxRetriesPerRequest: null, as BullMQ requires of blocking connections.
   */
  connection: Redis;
  /**
   * The connection tasks are added on: one that fails fast (no offline queue, a command
   * timeout), so that adding a task while Redis is away fails at once instead of hanging.
   */
  queueConnection: Redis;
  /** BullMQ's key prefix. */
  prefix: string;
  /** How many jobs this instance finishes at once. @default 64 */
  concurrency?: number;
  /** The longest each step of close() waits for Redis, in ms. @default 2_000 */
  closeStepMs?: number;
  /**
   * Told about failures that no caller sees, among them some that only say Redis is away
   * (BullMQ's lost connections, a local timer's finish that failed while the task stays): the
   * caller decides which are news.
   */
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
 * Jobs are started once stored, and the task's BullMQ id is the job's id, so starting a job
 * twice adds one task. The instance that starts a job also keeps a timer for it, which finishes
 * it on time (BullMQ's delayed tasks run some tens of ms late) and finishes it even if adding the
 * task failed; the task then finds the job ended and does nothing. Finishing is compare-and-set
 * in the store, so the two never both change the job.
 */
export function createBullmqJobRunner(options: BullmqJobRunnerOptions): JobRunner {
  const { store, clock, connection, queueConnection, prefix, onError } = options;
  const closeStepMs = options.closeStepMs ?? 2_000;
  // skipWaitingForReady and skipVersionCheck: the queue sends nothing until a task is added, so
  // an add fails fast while Redis is away instead of waiting for it (the worker checks the
  // version). skipMetasUpdate: the queue's meta hash keeps BullMQ's defaults.
  const queue = new Queue<FinishTask>(QUEUE, {
    connection: queueConnection,
    prefix,
    skipWaitingForReady: true,
    skipVersionCheck: true,
    skipMetasUpdate: true,
  });
  /** The BullMQ ids of the tasks this worker holds, until BullMQ has recorded how each ended. */
  const inHand = new Set<string>();
  let whenIdle: (() => void) | undefined;
  const settled = (id: string | undefined): void => {
    if (id !== undefined && inHand.delete(id) && inHand.size === 0) {
      whenIdle?.();
    }
  };
  const worker = new Worker<FinishTask>(
    QUEUE,
    async (task) => {
      if (task.id !== undefined) {
        inHand.add(task.id);
      }
      const stored = await store.get(task.data.jobId);
      if (stored === undefined) {
        // A task is added only after its job is stored, so its record has gone: the job ended
        // and outlived its retention. Nothing to do.
        return;
      }
      await store.finish(stored.job.id, simulatedOutcome(stored.job, clock.now()));
    },
    { connection, prefix, concurrency: options.concurrency ?? 64, drainDelay: DRAIN_DELAY_S },
  );
  const timers = createTimerJobRunner({ store, clock, onError });
  queue.on("error", (error) => onError(error));
  worker.on("error", (error) => onError(error));
  worker.on("completed", (task) => settled(task.id));
  worker.on("failed", (task, error) => {
    settled(task?.id);
    // Attempts that will be retried are routine (Redis was away); only the last one is news.
    if (task === undefined || task.attemptsMade >= (task.opts.attempts ?? 1)) {
      onError(error, task?.data.jobId);
    }
  });
  let closing: Promise<void> | undefined;

  return {
    async start(job: Job) {
      // The timer first: if the task cannot be added, this instance still finishes the job.
      await timers.start(job);
      const due = job.estimatedCompletionTime === undefined ? 0 : timestampMs(job.estimatedCompletionTime);
      try {
        await queue.add(
          "finish",
          { jobId: job.id },
          {
            // A task with this id exists already when the job was started before: no second one.
            jobId: job.id,
            delay: Math.max(0, due - clock.now()),
            // Finishing fails when Redis does: try again for about 100 s (100 ms doubling, 10
            // times) before giving up.
            attempts: 10,
            backoff: { type: "exponential", delay: 100 },
            removeOnComplete: true,
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        );
      } catch (error) {
        throw new ConnectError("the job queue is unavailable", Code.Unavailable, undefined, undefined, error);
      }
    },
    close() {
      // Stops taking tasks and lets those in hand end; tasks not yet due stay for the others.
      // Every step is bounded: while Redis is away BullMQ's graceful close waits for it.
      closing ??= (async () => {
        await timers.close();
        await settleWithin(worker.pause(true), closeStepMs);
        if (inHand.size > 0) {
          await settleWithin(new Promise<void>((resolve) => (whenIdle = resolve)), closeStepMs);
        }
        // Forced, so that it does not wait for Redis. A task whose end was not recorded is taken
        // again by another worker once its lock expires, and finds its job ended.
        await settleWithin(worker.close(true), closeStepMs);
        await settleWithin(queue.close(), closeStepMs);
      })();
      return closing;
    },
  };
}
