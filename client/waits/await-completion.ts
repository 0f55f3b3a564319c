import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { AwaitCompletionOptions } from "../call-types.js";
import { isTerminal, POLLING_MODES, type PollingMode } from "../constants.js";
import { JobClientError } from "../errors.js";
import { CLIENT_DEFAULTS, type ResolvedClientOptions, requireNumber } from "../job-client-options.js";
import type { JobReader } from "../job-reader.js";
import { pollChanges } from "./poll-changes.js";
import { streamChanges } from "./stream-changes.js";
import { WaitScope } from "./wait-scope.js";

/** What a wait needs of the client that runs it. */
export interface WaitContext {
  reader: JobReader;
  settings: ResolvedClientOptions;
}

/** awaitCompletion's options with their defaults filled in. */
export interface ResolvedAwaitOptions extends AwaitCompletionOptions {
  mode: PollingMode;
  pollIntervalMs: number;
}

/**
 * A copy of `options` with the defaults filled in (CLIENT_DEFAULTS), checked: RangeError for a
 * mode, poll interval or timeout that awaitCompletion cannot follow.
 */
export function resolveAwaitOptions(options: AwaitCompletionOptions): ResolvedAwaitOptions {
  const resolved = {
    ...options,
    mode: options.mode ?? CLIENT_DEFAULTS.mode,
    pollIntervalMs: options.pollIntervalMs ?? CLIENT_DEFAULTS.pollIntervalMs,
  };
  const modes: unknown[] = Object.values(POLLING_MODES);
  if (!modes.includes(resolved.mode)) {
    throw new RangeError(`mode must be one of ${modes.join(", ")}, got ${String(resolved.mode)}`);
  }
  requireNumber("pollIntervalMs", resolved.pollIntervalMs, 0);
  if (resolved.timeoutMs !== undefined) {
    requireNumber("timeoutMs", resolved.timeoutMs, 0);
  }
  return resolved;
}

/**
 * Follows the job in the mode asked until it ends, reporting each new version to onUpdate, and
 * resolves with the terminal job. `timeoutMs` runs from `startedAt` (ms since the epoch; for
 * createAndAwait, from before its create).
 */
export async function awaitCompletion(
  jobId: string,
  options: AwaitCompletionOptions,
  context: WaitContext,
  startedAt = Date.now(),
): Promise<Job> {
  const { reader, settings } = context;
  const { mode, pollIntervalMs } = resolveAwaitOptions(options);
  const scope = new WaitScope(jobId, options.timeoutMs, options.signal, startedAt);
  // Without onUpdate only the end is wanted: each long wait is answered at the job's end.
  const untilTerminal = options.onUpdate === undefined;
  const longWaits = () => pollChanges({ reader, settings, scope, mode: POLLING_MODES.LONG, pollIntervalMs, untilTerminal });
  let changes: AsyncGenerator<Job, void, undefined>;
  switch (mode) {
    case POLLING_MODES.LONG:
      changes = longWaits();
      break;
    case POLLING_MODES.SHORT:
      changes = pollChanges({ reader, settings, scope, mode: POLLING_MODES.SHORT, pollIntervalMs });
      break;
    case POLLING_MODES.STREAM:
      changes = streamChanges({ reader, settings, scope, knownVersion: 0n, fallback: longWaits });
      break;
  }
  for await (const job of changes) {
    settings.logger.debug?.({ jobId, version: String(job.version), state: job.state }, "job changed");
    options.onUpdate?.(job);
    if (isTerminal(job)) {
      return job;
    }
  }
  // The generators end only after yielding a terminal job; this is a broken invariant.
  throw new JobClientError(`following job ${jobId} ended before the job did`);
}
