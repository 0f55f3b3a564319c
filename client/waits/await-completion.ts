import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { AwaitCompletionOptions } from "../call-types.js";
import { isTerminal, POLLING_MODES } from "../constants.js";
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

/** Throws RangeError for a mode, poll interval or timeout that awaitCompletion cannot follow. */
export function checkAwaitOptions(options: AwaitCompletionOptions): void {
  const modes: unknown[] = Object.values(POLLING_MODES);
  if (options.mode !== undefined && !modes.includes(options.mode)) {
    throw new RangeError(`mode must be one of ${modes.join(", ")}, got ${String(options.mode)}`);
  }
  requireNumber("pollIntervalMs", options.pollIntervalMs ?? CLIENT_DEFAULTS.pollIntervalMs, 0);
  if (options.timeoutMs !== undefined) {
    requireNumber("timeoutMs", options.timeoutMs, 0);
  }
}

/**
 * Follows the job in the mode asked until it ends, reporting each new version to onUpdate, and
 * resolves with the terminal job.
 */
export async function awaitCompletion(jobId: string, options: AwaitCompletionOptions, context: WaitContext): Promise<Job> {
  const { reader, settings } = context;
  checkAwaitOptions(options);
  const mode = options.mode ?? CLIENT_DEFAULTS.mode;
  const pollIntervalMs = options.pollIntervalMs ?? CLIENT_DEFAULTS.pollIntervalMs;
  const scope = new WaitScope(jobId, options.timeoutMs, options.signal);
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
    default:
      throw new RangeError(`unknown mode ${String(mode)}`);
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
