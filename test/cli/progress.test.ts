import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { jobProgress } from "../../cli/output/job-progress.js";
import { createProgress } from "../../cli/output/progress.js";
import { JOB_STATUS } from "../../client/index.js";
import { type Job, JobSchema } from "../../gen/jobs/v1/job_pb.js";
import { waitUntil } from "../support/wait-until.js";

const t0 = 1_800_000_000_000;

function job(state: number, updateMs = t0, version = 1n): Job {
  return create(JobSchema, {
    id: "job-id-0000000000000000",
    state,
    version,
    createTime: timestampFromMs(t0),
    updateTime: timestampFromMs(updateMs),
    estimatedCompletionTime: timestampFromMs(t0 + 4_000),
  });
}

/** A stand-in for stderr; `isTTY` decides whether cli-progress draws. */
function fakeStderr(isTTY: boolean) {
  let written = "";
  const writable = new Writable({
    write(chunk: Buffer, _encoding, done) {
      written += chunk.toString();
      done();
    },
  });
  const stream = Object.assign(writable, { isTTY, columns: 120 });
  // Cursor moves and line clears become line breaks, so each frame reads as a line.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are what is replaced
  return { stream, text: () => written.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, "\n") };
}

describe("jobProgress", () => {
  it("runs a pending job from its createTime to its estimatedCompletionTime by the clock", () => {
    expect(jobProgress(job(JOB_STATUS.PENDING), t0 + 1_000)).toEqual({ fraction: 0.25, remainingMs: 3_000 });
    expect(jobProgress(job(JOB_STATUS.PENDING), t0 + 9_000)).toEqual({ fraction: 1, remainingMs: 0 });
    expect(jobProgress(job(JOB_STATUS.PENDING), t0 - 500)).toEqual({ fraction: 0, remainingMs: 4_500 });
  });

  it("is full for a completed or failed job and stops where a cancelled one was cancelled", () => {
    expect(jobProgress(job(JOB_STATUS.COMPLETED, t0 + 4_000), t0).fraction).toBe(1);
    expect(jobProgress(job(JOB_STATUS.ERROR, t0 + 4_000), t0).fraction).toBe(1);
    expect(jobProgress(job(JOB_STATUS.CANCELLED, t0 + 2_000), t0 + 9_000)).toEqual({ fraction: 0.5, remainingMs: 2_000 });
  });
});

describe("createProgress", () => {
  it("draws a live bar on a terminal that moves with the clock and ends at the job's end", async () => {
    const { stream, text } = fakeStderr(true);
    let now = t0 + 1_000;
    const progress = createProgress({ stream, live: true, intervalMs: 10, now: () => now });
    progress.update(job(JOB_STATUS.PENDING));
    now = t0 + 2_000;
    try {
      // Redrawn by its own timer, with the clock moved on.
      await waitUntil(() => text().includes("50% | PENDING | 2s left"), { what: "the bar to redraw at 50%" });
    } finally {
      progress.finish(job(JOB_STATUS.COMPLETED, t0 + 4_000, 2n));
    }
    const drawn = text();
    expect(drawn).toContain("25% | PENDING | 3s left");
    expect(drawn).toContain("50% | PENDING | 2s left");
    expect(drawn).toContain("100% | COMPLETED | ended");
    expect(drawn).toMatch(/\[█+░+\] 50%/);
  });

  it("writes one plain line per pending version elsewhere, and nothing for the end", () => {
    const { stream, text } = fakeStderr(false);
    const progress = createProgress({ stream, live: false, now: () => t0 + 1_000 });
    progress.update(job(JOB_STATUS.PENDING));
    progress.update(job(JOB_STATUS.PENDING));
    progress.update(job(JOB_STATUS.COMPLETED, t0 + 4_000, 2n));
    progress.finish(job(JOB_STATUS.COMPLETED, t0 + 4_000, 2n));
    expect(text()).toBe("waiting for job-id-0000000000000000: PENDING, ends in 3s\n");
  });
});
