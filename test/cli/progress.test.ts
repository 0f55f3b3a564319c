import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { jobProgress } from "../../cli/output/job-progress.js";
import { createManyProgress } from "../../cli/output/many-progress.js";
import { createProgress } from "../../cli/output/progress.js";
import { JOB_STATUS } from "../../client/index.js";
import { type Job, JobSchema } from "../../gen/jobs/v1/job_pb.js";
import { waitUntil } from "../support/wait-until.js";

const t0 = 1_800_000_000_000;

function job(state: number, updateMs = t0, version = 1n, id = "job-id-0000000000000000", durationMs = 4_000): Job {
  return create(JobSchema, {
    id,
    state,
    version,
    createTime: timestampFromMs(t0),
    updateTime: timestampFromMs(updateMs),
    estimatedCompletionTime: timestampFromMs(t0 + durationMs),
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
  return { stream, raw: () => written, text: () => written.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, "\n") };
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

describe("createManyProgress", () => {
  const a = (state: number, version = 1n) => job(state, t0 + 2_000, version, "job-a", 2_000);
  const b = (state: number, version = 1n) => job(state, t0 + 4_000, version, "job-b", 4_000);
  /** The bar for job-a and job-b on a terminal, drawn every 10 ms, at t0 + 1 s. */
  const liveBar = (stream: Parameters<typeof createManyProgress>[0]["stream"]) =>
    createManyProgress({ stream, live: true, jobIds: ["job-a", "job-b"], intervalMs: 10, now: () => t0 + 1_000 });

  it("draws one bar for all the jobs on a terminal, and clears it for each line printed", async () => {
    const { stream, raw, text } = fakeStderr(true);
    const progress = liveBar(stream);
    let atPrint = "";
    try {
      progress.update(a(JOB_STATUS.PENDING));
      progress.update(b(JOB_STATUS.PENDING));
      // (0.5 + 0.25) / 2 of the way (cli-progress rounds down); 3 s to the latest end.
      await waitUntil(() => text().includes("37% | 0/2 ended | 3s left"), { what: "the bar to show both jobs" });
      progress.update(a(JOB_STATUS.ERROR, 2n));
      progress.print(() => {
        atPrint = raw();
      });
      // Drawn again at once below the line, with the job that ended.
      expect(raw().slice(atPrint.length)).toContain("62% | 1/2 ended, 1 failed | 3s left");
    } finally {
      progress.finish();
    }
    // The bar's line was cleared before the line was written.
    expect(atPrint.endsWith("\x1b[2K")).toBe(true);
    expect(raw().endsWith("\x1b[2K")).toBe(true);
  });

  it("counts a job not yet seen as pending: not 'all ended' while one has yet to come", async () => {
    const { stream, text } = fakeStderr(true);
    const progress = liveBar(stream);
    try {
      progress.update(a(JOB_STATUS.COMPLETED, 2n));
      await waitUntil(() => text().includes("| 1/2 ended | 1 pending"), { what: "the bar to count the job not yet seen" });
      expect(text()).not.toContain("all ended");
    } finally {
      progress.finish();
    }
  });

  it("writes one plain line per pending version of each job elsewhere, and prints lines as they are", () => {
    const { stream, text } = fakeStderr(false);
    const progress = createManyProgress({ stream, live: false, jobIds: ["job-a", "job-b"], now: () => t0 + 1_000 });
    progress.update(a(JOB_STATUS.PENDING));
    progress.update(b(JOB_STATUS.PENDING));
    progress.update(a(JOB_STATUS.PENDING));
    progress.update(a(JOB_STATUS.COMPLETED, 2n));
    let printed = false;
    progress.print(() => {
      printed = true;
    });
    progress.finish();
    expect(printed).toBe(true);
    expect(text()).toBe("waiting for job-a: PENDING, ends in 1s\nwaiting for job-b: PENDING, ends in 3s\n");
  });
});
