import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Job } from "../../gen/jobs/v1/job_pb.js";

/** The longest next_poll_after a short poll is told, so short pollers still see changes soon. */
export const MAX_POLL_HINT_MS = 1_000;

/**
 * When a short poller should ask again: at the job's estimated end if that is near, but never
 * sooner than twice the rate limit's interval (so a caller who follows hints is never refused,
 * even when network delays bunch its calls) and never later than MAX_POLL_HINT_MS.
 */
export function shortPollHintMs(job: Job, now: number, rateIntervalMs: number): number {
  const untilEnd = job.estimatedCompletionTime === undefined ? 0 : timestampMs(job.estimatedCompletionTime) - now;
  const floor = 2 * rateIntervalMs;
  return Math.ceil(Math.max(floor, Math.min(untilEnd, MAX_POLL_HINT_MS)));
}

/**
 * How long before the caller's deadline a held wait answers, so that the answer arrives
 * before the caller gives up: 10% of the time left, from 50 ms to 500 ms.
 */
export function deadlineMarginMs(timeoutMs: number): number {
  return Math.min(500, Math.max(50, timeoutMs / 10));
}
