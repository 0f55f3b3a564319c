import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { GetStatusOptions, StatusResult } from "../call-types.js";
import { isTerminal, POLLING_MODES } from "../constants.js";
import { DeadlineExceededError } from "../errors.js";
import type { ResolvedClientOptions } from "../job-client-options.js";
import type { JobReader } from "../job-reader.js";
import type { WaitScope } from "./wait-scope.js";

/** Below this much time left, a long wait is not worth sending: the server would answer at once. */
export const MIN_LONG_WAIT_MS = 100;

export interface PollChangesOptions {
  /** Reads the job. */
  reader: Pick<JobReader, "getStatus">;
  settings: ResolvedClientOptions;
  scope: WaitScope;
  mode: typeof POLLING_MODES.LONG | typeof POLLING_MODES.SHORT;
  /** SHORT mode: the interval between polls, in ms (the server's hint wins when longer). */
  pollIntervalMs: number;
  /**
   * LONG mode: only the end matters (no one is told of each change): every call is a long wait
   * that the server answers at the job's end (GetStatusRequest.until_terminal), the first
   * included, so a job is followed with one held call per MAX_WAIT instead of one per change.
   * @default false
   */
  untilTerminal?: boolean;
}

/**
 * Yields the job's new versions, first as it is now, until it ends: one loop that reads the job,
 * then waits from the version seen (LONG: a held request; SHORT: a poll paced by the interval
 * and the server's hint), so that a change landing in between is never missed.
 * Throws DeadlineExceededError (with the last job) when the scope's time runs out.
 */
export async function* pollChanges(options: PollChangesOptions): AsyncGenerator<Job, void, undefined> {
  const { reader, settings, scope, mode, pollIntervalMs } = options;
  const untilTerminal = mode === POLLING_MODES.LONG && options.untilTerminal === true;
  const longWait = (knownVersion: bigint): GetStatusOptions => ({
    waitMs: Math.min(settings.longWaitMs, scope.remaining()),
    knownVersion,
    untilTerminal,
  });
  const read = async (status: GetStatusOptions): Promise<StatusResult> => {
    try {
      return await reader.getStatus(scope.jobId, { ...status, signal: scope.signal, timeoutMs: scope.callTimeout() });
    } catch (error) {
      throw error instanceof DeadlineExceededError && scope.timeoutMs !== undefined ? scope.timedOut(error.cause) : error;
    }
  };

  // The first call reads the job as it is, or, for the end only, is the first long wait: the
  // server reads the job itself once it has subscribed to it, so no end is missed either way.
  let replyWasLongWait = untilTerminal && scope.remaining() >= MIN_LONG_WAIT_MS;
  let reply = await read(replyWasLongWait ? longWait(0n) : {});
  for (;;) {
    if (scope.see(reply.job)) {
      yield reply.job;
    }
    const last = scope.last as Job;
    if (isTerminal(last)) {
      return;
    }
    const hintMs = reply.nextPollAfterMs ?? 0;
    if (mode === POLLING_MODES.SHORT) {
      // Paced by the larger of the interval and the server's hint, plus up to 10% jitter.
      await scope.pause(Math.max(pollIntervalMs, hintMs) * (1 + 0.1 * settings.random()));
      if (scope.remaining() <= 0) {
        throw scope.timedOut();
      }
      reply = await read({});
      continue;
    }
    // A hint after a long wait means "not at once" (the server is closing or shedding waits);
    // the hint after a plain read paces short polls, which LONG mode does not send.
    if (replyWasLongWait && hintMs > 0) {
      await scope.pause(hintMs);
    }
    if (scope.remaining() < MIN_LONG_WAIT_MS) {
      await scope.pause(scope.remaining());
      throw scope.timedOut();
    }
    reply = await read(longWait(last.version));
    replyWasLongWait = true;
  }
}
