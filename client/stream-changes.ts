import { Code, ConnectError } from "@connectrpc/connect";
import type { Job } from "../gen/jobs/v1/job_pb.js";
import type { WatchJobResponse } from "../gen/jobs/v1/job_service_pb.js";
import { isTerminal } from "./constants.js";
import { CallAbortedError, RateLimitError } from "./errors.js";
import type { ResolvedClientOptions } from "./job-client-options.js";
import { MIN_LONG_WAIT_MS } from "./poll-changes.js";
import { isRetryable, retryDelayMs } from "./retry-policy.js";
import { toJobClientError } from "./to-job-client-error.js";
import type { WaitScope } from "./wait-scope.js";

/**
 * Opens a WatchJob stream from `knownVersion`, under the call options given. Leaving the stream
 * before its end (its iterator's `return()`) must end the call and release it (releasingStream).
 */
export type OpenStream = (
  knownVersion: bigint,
  callOptions: { signal: AbortSignal | undefined; timeoutMs: number | undefined },
) => AsyncIterable<WatchJobResponse>;

/**
 * Yields the job's new versions from WatchJob streams until it ends. A stream that breaks or ends
 * early is opened again from the last version seen (after a backoff when it failed), so no change
 * is lost or repeated; a server without WatchJob (UNIMPLEMENTED) is followed with `fallback`.
 * Throws DeadlineExceededError (with the last job) when the scope's time runs out.
 */
export async function* streamChanges(
  openStream: OpenStream,
  fallback: () => AsyncGenerator<Job, void, undefined>,
  scope: WaitScope,
  knownVersion: bigint,
  client: ResolvedClientOptions,
): AsyncGenerator<Job, void, undefined> {
  let retry = 0;
  for (;;) {
    if (scope.remaining() < MIN_LONG_WAIT_MS) {
      await scope.pause(scope.remaining());
      throw scope.timedOut();
    }
    let progressed = false;
    try {
      const from = scope.last?.version ?? knownVersion;
      // Leaving this loop (the job ended, or the caller broke out of watch()) ends the call at
      // once instead of leaving it held.
      for await (const { job } of openStream(from, { signal: scope.signal, timeoutMs: scope.callTimeout() })) {
        if (job === undefined || !scope.see(job)) {
          continue;
        }
        progressed = true;
        retry = 0;
        yield job;
        if (isTerminal(job)) {
          return;
        }
      }
      // The stream ended before the job did (the server closes it ahead of our deadline, or a
      // proxy cut it): resume at once if it brought news, else after a backoff.
      if (!progressed) {
        await scope.pause(retryDelayMs(retry++, undefined, client.retry, client.random));
      }
    } catch (caught) {
      const error = toJobClientError(caught, { jobId: scope.jobId, signal: scope.signal });
      if (error instanceof CallAbortedError) {
        throw error;
      }
      if (error.code === Code.Unimplemented) {
        client.logger.info?.({ jobId: scope.jobId }, "WatchJob is not available: following the job with long waits");
        yield* fallback();
        return;
      }
      if (scope.remaining() <= 0) {
        throw scope.timedOut(error);
      }
      const cause = error.cause;
      if (!(cause instanceof ConnectError) || !isRetryable(cause, true) || retry >= client.maxRetries) {
        throw error;
      }
      const hintMs = error instanceof RateLimitError ? error.retryAfterMs : undefined;
      if (hintMs !== undefined && hintMs >= scope.remaining()) {
        throw scope.timedOut(error);
      }
      const delayMs = retryDelayMs(retry++, hintMs, client.retry, client.random);
      client.logger.warn?.(
        { method: "WatchJob", jobId: scope.jobId, retry, delayMs: Math.round(delayMs), code: Code[cause.code] },
        `resuming WatchJob after ${error.name}`,
      );
      await scope.pause(delayMs);
    }
  }
}
