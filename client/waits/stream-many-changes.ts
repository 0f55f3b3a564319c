import { Code } from "@connectrpc/connect";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import { isTerminal } from "../constants.js";
import { type JobClientError, JobNotFoundError } from "../errors.js";
import type { ResolvedClientOptions } from "../job-client-options.js";
import type { JobReader } from "../job-reader.js";
import { reopenDelayMs } from "../retries/reopen-delay.js";
import { retryDelayMs } from "../retries/retry-policy.js";
import { toJobClientError } from "../retries/to-job-client-error.js";
import type { ManyScope } from "./many-scope.js";
import { MIN_LONG_WAIT_MS } from "./poll-changes.js";

/** The most ids one WatchJobs call may name (the server refuses more). */
export const MAX_IDS_PER_WATCH = 1_000;

export interface StreamManyChangesOptions {
  /** Opens the WatchJobs streams. */
  reader: Pick<JobReader, "openManyStream">;
  settings: ResolvedClientOptions;
  scope: ManyScope;
  /** The jobs of this stream: at most MAX_IDS_PER_WATCH, without repeats. */
  jobIds: readonly string[];
  /** Follows the given jobs where the server does not stream (UNIMPLEMENTED). */
  fallback: (jobIds: string[]) => AsyncGenerator<Job, void, undefined>;
}

/**
 * Yields the new versions of the jobs from WatchJobs streams, each job first as it is now, until
 * every one has ended. A stream that breaks or ends early is opened again for the jobs not yet
 * seen ended, with the versions seen (after a backoff when it failed, never sooner than the
 * server's RetryInfo), so no change is lost or repeated; a server without WatchJobs
 * (UNIMPLEMENTED) has the jobs still open followed by `fallback`. Throws JobNotFoundError naming
 * the ids the server lists as not found, before yielding any job of that answer, and
 * DeadlineExceededError (from the scope) when time runs out.
 */
export async function* streamManyChanges(options: StreamManyChangesOptions): AsyncGenerator<Job, void, undefined> {
  const { reader, settings, scope, jobIds, fallback } = options;
  const { signal, unlink } = scope.link();
  try {
    // The version seen of each job not yet seen ended.
    const open = new Map<string, bigint>(jobIds.map((id) => [id, 0n]));
    // Reopenings since the last news: the backoff's attempt number, and what maxRetries counts.
    let retry = 0;
    let lastError: JobClientError | undefined;
    while (open.size > 0) {
      if (scope.remaining() < MIN_LONG_WAIT_MS) {
        await scope.pause(scope.remaining(), signal);
        throw scope.timedOut(lastError);
      }
      let progressed = false;
      try {
        const ids = [...open.keys()];
        const stream = reader.openManyStream({
          jobIds: ids,
          knownVersions: ids.map((id) => open.get(id) as bigint),
          signal,
          timeoutMs: scope.callTimeout(),
        });
        // The last jobs to end are given once the stream has ended: the server ends it when
        // every job it watches has, and is not made to reset it (see streamChanges).
        let last: Job[] | undefined;
        try {
          for await (const { jobs, notFoundJobIds } of stream) {
            if (last !== undefined) {
              continue;
            }
            if (notFoundJobIds.length > 0) {
              throw scope.notFound(notFoundJobIds);
            }
            const news: Job[] = [];
            for (const job of jobs) {
              const seen = open.get(job.id);
              if (seen === undefined || job.version <= seen) {
                continue;
              }
              if (isTerminal(job)) {
                open.delete(job.id);
              } else {
                open.set(job.id, job.version);
              }
              progressed = true;
              retry = 0;
              lastError = undefined;
              news.push(job);
            }
            if (open.size === 0) {
              last = news;
              continue;
            }
            yield* news;
          }
        } catch (caught) {
          if (last === undefined) {
            throw caught;
          }
        }
        if (last !== undefined) {
          yield* last;
          return;
        }
        // The stream ended before the jobs did (the server closes it ahead of our deadline, or a
        // proxy cut it): resume at once if it brought news, else after a backoff.
        lastError = undefined;
        if (!progressed) {
          await scope.pause(retryDelayMs(retry++, undefined, settings.retry, settings.random), signal);
        }
      } catch (caught) {
        if (caught instanceof JobNotFoundError) {
          throw caught;
        }
        const error = toJobClientError(caught, { signal });
        if (error.code === Code.Unimplemented) {
          settings.logger.info?.({ jobs: open.size }, "WatchJobs is not available: following each job with long waits");
          yield* fallback([...open.keys()]);
          return;
        }
        lastError = error;
        const delayMs = reopenDelayMs({ error, attempt: retry, method: "WatchJobs", jobId: undefined, scope }, settings);
        retry++;
        await scope.pause(delayMs, signal);
      }
    }
  } finally {
    unlink();
  }
}
