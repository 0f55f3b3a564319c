import { JOB_STATUS, type Job } from "../../client/index.js";
import { formatDuration } from "../duration.js";
import { jobProgress } from "./job-progress.js";
import { createLiveBar } from "./live-bar.js";
import type { LineSink } from "./output.js";
import { stateName } from "./output.js";

/** Shows how a job that is being waited for is getting on. */
export interface ProgressReporter {
  /** A new version of the job was seen. */
  update(job: Job): void;
  /** The wait is over (the job ended, or the wait failed); draws the last state and lets go of the terminal. */
  finish(job?: Job): void;
}

export interface ProgressOptions {
  /** Where progress goes: stderr, so stdout keeps only results. */
  stream: LineSink & NodeJS.WritableStream;
  /** Draw a live bar (a terminal, not --json); otherwise one plain line per version seen. */
  live: boolean;
  /** How often the bar moves, in ms. @default 100 */
  intervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** A live bar on a terminal, plain lines elsewhere. */
export function createProgress(options: ProgressOptions): ProgressReporter {
  return options.live ? liveBar(options) : plainLines(options);
}

// The bar runs from the job's createTime to its estimatedCompletionTime. The server sends a new
// version only when the job changes, so the bar is moved by the clock between versions.
function liveBar(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? Date.now;
  const bar = createLiveBar({ stream: options.stream, format: "{id} [{bar}] {percentage}% | {state} | {remaining}" });
  let latest: Job | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;

  const draw = (job: Job) => {
    const { fraction, remainingMs, note } = jobProgress(job, now());
    const pending = job.state === JOB_STATUS.PENDING;
    const remaining =
      note ??
      (!pending ? "ended" : remainingMs !== undefined && remainingMs > 0 ? `${formatDuration(remainingMs)} left` : "due now");
    bar.show(fraction, { id: job.id, state: stateName(job), remaining });
  };

  return {
    update(job) {
      latest = job;
      draw(job);
      timer ??= setInterval(() => latest !== undefined && draw(latest), options.intervalMs ?? 100);
    },
    finish(job) {
      clearInterval(timer);
      timer = undefined;
      if (job !== undefined) {
        draw(job);
      }
      bar.stop();
    },
  };
}

function plainLines(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? Date.now;
  let seen: bigint | undefined;
  return {
    update(job) {
      if (job.version === seen || job.state !== JOB_STATUS.PENDING) {
        return;
      }
      seen = job.version;
      const { fraction, remainingMs, note } = jobProgress(job, now());
      const how = note === undefined ? `ends in ${formatDuration(remainingMs ?? 0)}` : `${Math.round(fraction * 100)}%, ${note}`;
      options.stream.write(`waiting for ${job.id}: ${stateName(job)}, ${how}\n`);
    },
    finish() {},
  };
}
