import type { Job } from "../gen/jobs/v1/job_pb.js";
import { isTerminal, POLLING_MODES } from "./constants.js";
import { JobClientError } from "./errors.js";
import {
  type AwaitCompletionOptions,
  CLIENT_DEFAULTS,
  requireNumber,
  type ResolvedClientOptions,
} from "./job-client-options.js";
import { type GetStatus, pollChanges } from "./poll-changes.js";
import { type OpenStream, streamChanges } from "./stream-changes.js";
import { WaitScope } from "./wait-scope.js";

/**
 * Follows the job in the mode asked until it ends, reporting each new version to onUpdate, and
 * resolves with the terminal job.
 */
export async function awaitCompletion(
  getStatus: GetStatus,
  openStream: OpenStream,
  jobId: string,
  options: AwaitCompletionOptions,
  client: ResolvedClientOptions,
): Promise<Job> {
  const mode = options.mode ?? CLIENT_DEFAULTS.mode;
  const pollIntervalMs = options.pollIntervalMs ?? CLIENT_DEFAULTS.pollIntervalMs;
  requireNumber("pollIntervalMs", pollIntervalMs, 0);
  if (options.timeoutMs !== undefined) {
    requireNumber("timeoutMs", options.timeoutMs, 0);
  }
  const scope = new WaitScope(jobId, options.timeoutMs, options.signal);
  const longWaits = () => pollChanges(getStatus, scope, POLLING_MODES.LONG, pollIntervalMs, client);
  let changes: AsyncGenerator<Job, void, undefined>;
  switch (mode) {
    case POLLING_MODES.LONG:
      changes = longWaits();
      break;
    case POLLING_MODES.SHORT:
      changes = pollChanges(getStatus, scope, POLLING_MODES.SHORT, pollIntervalMs, client);
      break;
    case POLLING_MODES.STREAM:
      changes = streamChanges(openStream, longWaits, scope, 0n, client);
      break;
    default:
      throw new RangeError(`mode must be one of ${Object.values(POLLING_MODES).join(", ")}, got ${String(mode)}`);
  }
  for await (const job of changes) {
    client.logger.debug?.({ jobId, version: String(job.version), state: job.state }, "job changed");
    options.onUpdate?.(job);
    if (isTerminal(job)) {
      return job;
    }
  }
  // The generators end only after yielding a terminal job; this is a broken invariant.
  throw new JobClientError(`following job ${jobId} ended before the job did`);
}
