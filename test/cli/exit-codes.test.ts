import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { exitCodeForError } from "../../cli/exit-code-for-error.js";
import { EXIT_CODES } from "../../cli/exit-codes.js";
import { errorLine } from "../../cli/output/error-line.js";
import { exitCodeForJob } from "../../cli/output/report-job.js";
import {
  CallAbortedError,
  DeadlineExceededError,
  JOB_STATUS,
  JobClientError,
  JobNotFoundError,
  NetworkError,
  RateLimitError,
  ServerError,
} from "../../client/index.js";
import { JobSchema } from "../../gen/jobs/v1/job_pb.js";

describe("exit codes", () => {
  it("pins the documented table", () => {
    expect(EXIT_CODES).toEqual({ OK: 0, JOB_FAILED: 1, USAGE: 2, TIMED_OUT: 3, UNREACHABLE: 4, INTERRUPTED: 130 });
  });

  it("maps each way a command can fail to its exit status", () => {
    const cases: [unknown, number][] = [
      [new CommanderError(1, "commander.unknownOption", "unknown option"), 2],
      [new CommanderError(0, "commander.helpDisplayed", "help"), 0],
      [new JobClientError("job_id is malformed", { code: Code.InvalidArgument }), 2],
      [new JobNotFoundError("job x not found", { jobId: "x" }), 1],
      [new JobClientError("has ended already", { code: Code.FailedPrecondition }), 1],
      [new JobClientError("request_id was used", { code: Code.AlreadyExists }), 1],
      [new DeadlineExceededError("timed out", {}), 3],
      [new NetworkError("could not reach the server", { code: Code.Unavailable }), 4],
      [new RateLimitError("rate limited", {}), 4],
      [new ServerError("server error (INTERNAL)", { code: Code.Internal }), 4],
      [new JobClientError("missing key", { code: Code.Unauthenticated }), 4],
      [new JobClientError("wrong key", { code: Code.PermissionDenied }), 4],
      [new CallAbortedError("aborted"), 130],
    ];
    expect(cases.map(([error]) => exitCodeForError(error))).toEqual(cases.map(([, code]) => code));
  });

  it("exits 1 for a job shown in ERROR or CANCELLED, 0 for PENDING or COMPLETED", () => {
    const states = [JOB_STATUS.PENDING, JOB_STATUS.COMPLETED, JOB_STATUS.ERROR, JOB_STATUS.CANCELLED];
    expect(states.map((state) => exitCodeForJob(create(JobSchema, { state })))).toEqual([0, 0, 1, 1]);
  });
});

describe("errorLine", () => {
  const context = { url: "http://127.0.0.1:8000" };

  it("says what went wrong in one line, naming the code in words", () => {
    const refused = new Error("connect ECONNREFUSED 127.0.0.1:8000");
    const lastJob = create(JobSchema, { id: "abc", state: JOB_STATUS.PENDING });
    expect([
      errorLine(new JobNotFoundError("job nope not found", { jobId: "nope" }), context),
      errorLine(new JobClientError("job_id is malformed", { code: Code.InvalidArgument }), context),
      errorLine(
        new NetworkError("could not reach the server: fetch failed", {
          cause: new TypeError("fetch failed", { cause: refused }),
        }),
        context,
      ),
      errorLine(new DeadlineExceededError("late", { lastJob }), context),
      errorLine(new RateLimitError("rate limited: too many", { retryAfterMs: 1_500 }), context),
    ]).toEqual([
      'job "nope" not found',
      "invalid argument: job_id is malformed",
      "could not reach the server at http://127.0.0.1:8000: connect ECONNREFUSED 127.0.0.1:8000",
      "timed out: job abc is still PENDING",
      "rate limited: too many (retry in 1.5s)",
    ]);
  });
});
