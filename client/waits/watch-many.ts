import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { WatchManyOptions } from "../call-types.js";
import { POLLING_MODES, type PollingMode } from "../constants.js";
import { DeadlineExceededError } from "../errors.js";
import { CLIENT_DEFAULTS, requireNumber } from "../job-client-options.js";
import type { WaitContext } from "./await-completion.js";
import { ManyScope } from "./many-scope.js";
import { mergeChanges } from "./merge-changes.js";
import { pollChanges } from "./poll-changes.js";
import { MAX_IDS_PER_WATCH, streamManyChanges } from "./stream-many-changes.js";
import { WaitScope } from "./wait-scope.js";

/** The modes that follow each job on its own. */
type OwnMode = typeof POLLING_MODES.LONG | typeof POLLING_MODES.SHORT;

/** WatchManyOptions checked, with defaults filled in. */
interface ManyPlan {
  mode: PollingMode;
  pollIntervalMs: number;
  timeoutMs: number | undefined;
}

/** Fills in and checks the options; throws RangeError for values that cannot work. */
export function planMany(options: WatchManyOptions): ManyPlan {
  const mode = options.mode ?? CLIENT_DEFAULTS.manyMode;
  if (!Object.values(POLLING_MODES).includes(mode)) {
    throw new RangeError(`mode must be one of ${Object.values(POLLING_MODES).join(", ")}, got ${String(mode)}`);
  }
  const pollIntervalMs = options.pollIntervalMs ?? CLIENT_DEFAULTS.pollIntervalMs;
  requireNumber("pollIntervalMs", pollIntervalMs, 0);
  if (options.timeoutMs !== undefined) {
    requireNumber("timeoutMs", options.timeoutMs, 0);
  }
  return { mode, pollIntervalMs, timeoutMs: options.timeoutMs };
}

/**
 * Yields each new version of each job, every job first as it is now, and ends once all have
 * ended: from WatchJobs streams of up to MAX_IDS_PER_WATCH jobs each (STREAM), or from each job
 * followed on its own (LONG, SHORT, and where the server does not stream), at most
 * MAX_FOLLOWED_AT_ONCE at a time. Repeated ids are followed once. Throws JobNotFoundError for
 * ids that name no job, DeadlineExceededError with the last state of each job when the time
 * runs out, CallAbortedError when the signal aborts. However it ends, early leaving included, it
 * leaves no call or timer behind.
 */
export async function* watchMany(
  jobIds: readonly string[],
  options: WatchManyOptions,
  context: WaitContext,
): AsyncGenerator<Job, void, undefined> {
  const { reader, settings } = context;
  const { mode, pollIntervalMs, timeoutMs } = planMany(options);
  const ids = [...new Set(jobIds)];
  if (ids.length === 0) {
    return;
  }
  const scope = new ManyScope(ids, timeoutMs, options.signal);
  const stop = (): void => scope.close();

  /** One job followed on its own, once it has a turn. */
  async function* followOne(jobId: string, how: OwnMode): AsyncGenerator<Job, void, undefined> {
    const giveBack = await scope.takeTurn();
    const { signal, unlink } = scope.link();
    try {
      const jobScope = new WaitScope(jobId, scope.callTimeout(), signal);
      yield* pollChanges({ reader, settings, scope: jobScope, mode: how, pollIntervalMs });
    } finally {
      unlink();
      giveBack();
    }
  }
  const followEach = (some: readonly string[], how: OwnMode) =>
    mergeChanges(
      some.map((id) => followOne(id, how)),
      stop,
    );

  const sources =
    mode === POLLING_MODES.STREAM
      ? chunks(ids, MAX_IDS_PER_WATCH).map((chunk) =>
          streamManyChanges({
            reader,
            settings,
            scope,
            jobIds: chunk,
            fallback: (open) => followEach(open, POLLING_MODES.LONG),
          }),
        )
      : [followEach(ids, mode)];
  try {
    for await (const job of mergeChanges(sources, stop)) {
      if (scope.see(job)) {
        settings.logger.debug?.({ jobId: job.id, version: String(job.version), state: job.state }, "job changed");
        yield job;
      }
    }
  } catch (error) {
    // A job followed on its own times out with its own job only: report every job instead.
    throw error instanceof DeadlineExceededError && timeoutMs !== undefined ? scope.timedOut(error.cause) : error;
  } finally {
    scope.close();
  }
}

/** `items` in runs of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const runs: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    runs.push(items.slice(start, start + size));
  }
  return runs;
}
