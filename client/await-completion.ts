import type { Job } from "../gen/jobs/v1/job_pb.js";
import { isTerminal, POLLING_MODES } from "./constants.js";
import { CallAbortedError, DeadlineExceededError } from "./errors.js";
import {
  type AwaitCompletionOptions,
  CLIENT_DEFAULTS,
  requireNumber,
  type ResolvedClientOptions,
} from "./job-client-options.js";
import type { GetStatusOptions, StatusResult } from "./job-client.js";
import { sleep } from "./sleep.js";

/** Below this much time left, a long wait is not worth sending: the server would answer at once. */
export const MIN_LONG_WAIT_MS = 100;

type GetStatus = (jobId: string, options: GetStatusOptions) => Promise<StatusResult>;

/**
 * Waits for the job to end, as one loop: read the job, then wait from the version seen (LONG:
 * a held request; SHORT: a paced poll), so that a change landing in between is never missed.
 */
export async function awaitCompletion(
  getStatus: GetStatus,
  jobId: string,
  options: AwaitCompletionOptions,
  client: ResolvedClientOptions,
): Promise<Job> {
  const mode = options.mode ?? CLIENT_DEFAULTS.mode;
  const pollIntervalMs = options.pollIntervalMs ?? CLIENT_DEFAULTS.pollIntervalMs;
  const { signal, timeoutMs, onUpdate } = options;
  requireNumber("pollIntervalMs", pollIntervalMs, 0);
  if (timeoutMs !== undefined) {
    requireNumber("timeoutMs", timeoutMs, 0);
  }
  if (mode !== POLLING_MODES.LONG && mode !== POLLING_MODES.SHORT) {
    throw new RangeError(`mode must be one of ${Object.values(POLLING_MODES).join(", ")}, got ${String(mode)}`);
  }
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
  const remaining = (): number => deadline - Date.now();
  let last: Job | undefined;

  const timedOut = (cause?: unknown): DeadlineExceededError =>
    new DeadlineExceededError(`job ${jobId} did not end within ${timeoutMs} ms`, { lastJob: last, cause });
  const pause = async (ms: number): Promise<void> => {
    try {
      await sleep(Math.min(ms, remaining()), signal);
    } catch (reason) {
      throw new CallAbortedError("awaitCompletion was aborted by its signal", { cause: reason });
    }
  };
  const read = async (status: GetStatusOptions): Promise<StatusResult> => {
    const left = remaining();
    try {
      return await getStatus(jobId, { ...status, signal, timeoutMs: Number.isFinite(left) ? left : undefined });
    } catch (error) {
      throw error instanceof DeadlineExceededError && timeoutMs !== undefined ? timedOut(error.cause) : error;
    }
  };

  let reply = await read({});
  let replyWasLongWait = false;
  for (;;) {
    if (last === undefined || reply.job.version !== last.version) {
      last = reply.job;
      client.logger.debug?.({ jobId, version: String(last.version), state: last.state }, "job changed");
      onUpdate?.(last);
    }
    if (isTerminal(last)) {
      return last;
    }
    const hintMs = reply.nextPollAfterMs ?? 0;
    if (mode === POLLING_MODES.SHORT) {
      // Paced by the larger of the interval and the server's hint, plus up to 10% jitter.
      await pause(Math.max(pollIntervalMs, hintMs) * (1 + 0.1 * client.random()));
      if (remaining() <= 0) {
        throw timedOut();
      }
      reply = await read({});
    } else {
      // A hint after a long wait means "not at once" (the server is closing or shedding waits);
      // the hint after a plain read paces short polls, which LONG mode does not send.
      if (replyWasLongWait && hintMs > 0) {
        await pause(hintMs);
      }
      if (remaining() < MIN_LONG_WAIT_MS) {
        await pause(remaining());
        throw timedOut();
      }
      reply = await read({ waitMs: Math.min(client.longWaitMs, remaining()), knownVersion: last.version });
      replyWasLongWait = true;
    }
  }
}
