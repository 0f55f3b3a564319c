import { Code } from "@connectrpc/connect";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import { isTerminal } from "../constants.js";
import type { JobClientError } from "../errors.js";
import type { ResolvedClientOptions } from "../job-client-options.js";
import type { JobReader } from "../job-reader.js";
import { reopenDelayMs } from "../retries/reopen-delay.js";
import { retryDelayMs } from "../retries/retry-policy.js";
import { toJobClientError } from "../retries/to-job-client-error.js";
import { MIN_LONG_WAIT_MS } from "./poll-changes.js";
import type { WaitScope } from "./wait-scope.js";

export interface StreamChangesOptions {
  /** Opens the WatchJob streams. */
  reader: Pick<JobReader, "openStream">;
  settings: ResolvedClientOptions;
  scope: WaitScope;
  /** The version already seen: the first job yielded is the next one. */
  knownVersion: bigint;
  /** Follows the job where the server does not stream (UNIMPLEMENTED). */
  fallback: () => AsyncGenerator<Job, void, undefined>;
}

/**
 * Yields the job's new versions from WatchJob streams until it ends. A stream that breaks or ends
 * early is opened again from the last version seen (after a backoff when it failed), so no change
 * is lost or repeated; a server without WatchJob (UNIMPLEMENTED) is followed with `fallback`.
 * Throws DeadlineExceededError (with the last job) when the scope's time runs out.
 */
export async function* streamChanges(options: StreamChangesOptions): AsyncGenerator<Job, void, undefined> {
  const { reader, settings, scope, knownVersion, fallback } = options;
  // Reopenings since the last news: the backoff's attempt number, and what maxRetries counts.
  let retry = 0;
  let lastError: JobClientError | undefined;
  for (;;) {
    if (scope.remaining() < MIN_LONG_WAIT_MS) {
      await scope.pause(scope.remaining());
      throw scope.timedOut(lastError);
    }
    let progressed = false;
    try {
      const from = scope.last?.version ?? knownVersion;
      // Leaving this loop early (the caller broke out of watch()) ends the call at once instead
      // of leaving it held. At the job's end the stream is read to its end instead: the server
      // ends it there, and a stream cut (RST_STREAM) for every job ended would count against
      // the connection (HTTP/2 servers end connections that reset streams faster than about 33
      // a second after a burst of 1000: nghttp2's rapid-reset guard, in Node's server too).
      const stream = reader.openStream(scope.jobId, {
        knownVersion: from,
        signal: scope.signal,
        timeoutMs: scope.callTimeout(),
      });
      // The job's end, once seen: the stream is read on to its end before it is given, since
      // the server ends the stream right after it (see above).
      let ended: Job | undefined;
      try {
        for await (const { job } of stream) {
          if (ended !== undefined || job === undefined || !scope.see(job)) {
            continue;
          }
          progressed = true;
          retry = 0;
          lastError = undefined;
          if (isTerminal(job)) {
            ended = job;
            continue;
          }
          yield job;
        }
      } catch (caught) {
        if (ended === undefined) {
          throw caught;
        }
      }
      if (ended !== undefined) {
        yield ended;
        return;
      }
      // The stream ended before the job did (the server closes it ahead of our deadline, or a
      // proxy cut it): resume at once if it brought news, else after a backoff.
      lastError = undefined;
      if (!progressed) {
        await scope.pause(retryDelayMs(retry++, undefined, settings.retry, settings.random));
      }
    } catch (caught) {
      const error = toJobClientError(caught, { jobId: scope.jobId, signal: scope.signal });
      if (error.code === Code.Unimplemented) {
        settings.logger.info?.({ jobId: scope.jobId }, "WatchJob is not available: following the job with long waits");
        yield* fallback();
        return;
      }
      lastError = error;
      const delayMs = reopenDelayMs({ error, attempt: retry, method: "WatchJob", jobId: scope.jobId, scope }, settings);
      retry++;
      await scope.pause(delayMs);
    }
  }
}
