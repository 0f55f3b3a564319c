import { JOB_STATUS, type Job } from "../../client/index.js";
import { formatDuration } from "../duration.js";
import { jobProgress } from "./job-progress.js";
import { createLiveBar } from "./live-bar.js";
import { createProgress, type ProgressOptions, type ProgressReporter } from "./progress.js";

/** Shows how the jobs a command waits for are getting on, and keeps out of the way of what it prints. */
export interface ManyProgressReporter {
  /** A new version of a job was seen. */
  update(job: Job): void;
  /** Runs `write`, which prints lines (a job that ended), with the display out of their way. */
  print(write: () => void): void;
  /** The wait is over (done or failed): lets go of the terminal. */
  finish(): void;
}

export interface ManyProgressOptions extends ProgressOptions {
  /** The jobs waited for. */
  jobIds: readonly string[];
}

/**
 * On a terminal, one summary bar for all the jobs: how far they have come together, how many
 * have ended (and failed), and the time left to the latest estimated end; it is cleared for each
 * line printed and drawn again below it. Elsewhere, one plain line per pending version of each
 * job, as for a single job.
 */
export function createManyProgress(options: ManyProgressOptions): ManyProgressReporter {
  return options.live ? liveSummary(options) : plainLines(options);
}

function liveSummary(options: ManyProgressOptions): ManyProgressReporter {
  const now = options.now ?? Date.now;
  const total = new Set(options.jobIds).size;
  const latest = new Map<string, Job>();
  const bar = createLiveBar({
    stream: options.stream,
    format: "[{bar}] {percentage}% | {ended}/{count} ended{failed} | {remaining}",
    clearOnComplete: true,
  });
  let timer: ReturnType<typeof setInterval> | undefined;

  const draw = (): void => {
    let fractions = 0;
    let ended = 0;
    let failed = 0;
    let pending = 0;
    let latestEndMs: number | undefined;
    for (const job of latest.values()) {
      const { fraction, remainingMs } = jobProgress(job, now());
      fractions += fraction;
      if (job.state === JOB_STATUS.PENDING) {
        pending++;
        latestEndMs = remainingMs === undefined ? latestEndMs : Math.max(latestEndMs ?? 0, remainingMs);
      } else {
        ended++;
        failed += job.state === JOB_STATUS.COMPLETED ? 0 : 1;
      }
    }
    // Jobs not yet seen are pending too: "all ended" only once every job has.
    pending += total - latest.size;
    let remaining = `${pending} pending`;
    if (pending === 0) {
      remaining = "all ended";
    } else if (latestEndMs !== undefined) {
      remaining = latestEndMs > 0 ? `${formatDuration(latestEndMs)} left` : "due now";
    }
    // The bar's `total` is its own resolution: the jobs are counted in `count`.
    bar.show(fractions / total, { ended, count: total, failed: failed > 0 ? `, ${failed} failed` : "", remaining });
  };

  return {
    update(job) {
      latest.set(job.id, job);
      draw();
      timer ??= setInterval(draw, options.intervalMs ?? 100);
    },
    print(write) {
      const drawn = bar.shown;
      bar.stop();
      write();
      if (drawn) {
        draw();
      }
    },
    finish() {
      clearInterval(timer);
      timer = undefined;
      bar.stop();
    },
  };
}

function plainLines(options: ManyProgressOptions): ManyProgressReporter {
  const reporters = new Map<string, ProgressReporter>();
  return {
    update(job) {
      let reporter = reporters.get(job.id);
      if (reporter === undefined) {
        reporter = createProgress(options);
        reporters.set(job.id, reporter);
      }
      reporter.update(job);
    },
    print: (write) => write(),
    finish() {},
  };
}
