import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { type Job, JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import type { GetStatusOptions, StatusResult } from "../call-types.js";
import { POLLING_MODES } from "../constants.js";
import { resolveClientOptions } from "../job-client-options.js";
import { pollChanges } from "./poll-changes.js";
import { WaitScope } from "./wait-scope.js";

// pollChanges over a reader of the test's own (no client, no server): what each call asks.

const jobId = "AAAAAAAAAAAAAAAAAAAAAA";
const job = (version: bigint, state = JobState.PENDING): Job => create(JobSchema, { id: jobId, state, version });

/** A reader that answers with `replies` in turn, noting what each call asked. */
function scriptedReader(replies: Job[]) {
  const asked: GetStatusOptions[] = [];
  return {
    asked,
    reader: {
      async getStatus(_jobId: string, options: GetStatusOptions = {}): Promise<StatusResult> {
        asked.push({ waitMs: options.waitMs, knownVersion: options.knownVersion, untilTerminal: options.untilTerminal });
        return { job: replies[asked.length - 1] as Job, nextPollAfterMs: undefined };
      },
    },
  };
}

async function follow(reader: ReturnType<typeof scriptedReader>["reader"], untilTerminal: boolean): Promise<bigint[]> {
  const settings = resolveClientOptions({ longWaitMs: 20_000 });
  const scope = new WaitScope(jobId, undefined, undefined);
  const seen: bigint[] = [];
  for await (const changed of pollChanges({
    reader,
    settings,
    scope,
    mode: POLLING_MODES.LONG,
    pollIntervalMs: 1_000,
    untilTerminal,
  })) {
    seen.push(changed.version);
  }
  return seen;
}

describe("pollChanges in LONG mode", () => {
  it("reads the job first, then waits from each version seen", async () => {
    const { reader, asked } = scriptedReader([job(1n), job(2n), job(3n, JobState.COMPLETED)]);
    expect(await follow(reader, false)).toEqual([1n, 2n, 3n]);
    expect(asked).toEqual([
      { waitMs: undefined, knownVersion: undefined, untilTerminal: undefined },
      { waitMs: 20_000, knownVersion: 1n, untilTerminal: false },
      { waitMs: 20_000, knownVersion: 2n, untilTerminal: false },
    ]);
  });

  it("for the end only, makes every call a wait until the end, the first included", async () => {
    const { reader, asked } = scriptedReader([job(2n, JobState.COMPLETED)]);
    expect(await follow(reader, true)).toEqual([2n]);
    expect(asked).toEqual([{ waitMs: 20_000, knownVersion: 0n, untilTerminal: true }]);
  });

  // A server older than until_terminal answers at the job's first change, as for any long wait.
  it("for the end only, still waits from the version seen, so a server that answers each change is followed too", async () => {
    const { reader, asked } = scriptedReader([job(1n), job(2n), job(3n, JobState.COMPLETED)]);
    expect(await follow(reader, true)).toEqual([1n, 2n, 3n]);
    expect(asked.map((call) => call.knownVersion)).toEqual([0n, 1n, 2n]);
    expect(asked.every((call) => call.untilTerminal === true && call.waitMs === 20_000)).toBe(true);
  });
});
