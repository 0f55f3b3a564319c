import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { JobSchema, JobState } from "../gen/jobs/v1/job_pb.js";
import { GetStatusResponseSchema } from "../gen/jobs/v1/job_service_pb.js";
import { statusResponseBinary, statusResponseJson } from "./status-encoding.js";

const pending = create(JobSchema, {
  id: "AAAAAAAAAAAAAAAAAAAAAA",
  state: JobState.PENDING,
  createTime: timestampFromMs(1_795_000_000_123),
  updateTime: timestampFromMs(1_795_000_000_123),
  estimatedCompletionTime: timestampFromMs(1_795_003_600_123),
  processingDuration: durationFromMs(3_600_000),
  version: 1n,
  requestId: "3f1c2d9e-8a4b-4c6d-9e0f-123456789abc",
});
const failed = create(JobSchema, {
  ...pending,
  state: JobState.ERROR,
  errorMessage: "é ünïcode and a long message ".repeat(10),
  version: 300n,
  shouldError: true,
});

const responses = [
  create(GetStatusResponseSchema, { job: pending, nextPollAfter: durationFromMs(1_000) }),
  create(GetStatusResponseSchema, { job: pending, nextPollAfter: durationFromMs(0) }),
  create(GetStatusResponseSchema, { job: pending, nextPollAfter: durationFromMs(437) }),
  create(GetStatusResponseSchema, { job: failed }),
  create(GetStatusResponseSchema, { job: create(JobSchema, { id: "x" }) }),
  create(GetStatusResponseSchema, {}),
];

describe("GetStatusResponse encoding", () => {
  it("writes the very JSON protobuf-es writes, twice in a row (cached)", () => {
    for (const response of responses) {
      const expected = toJsonString(GetStatusResponseSchema, response);
      expect(new TextDecoder().decode(statusResponseJson(response))).toBe(expected);
      expect(new TextDecoder().decode(statusResponseJson(response))).toBe(expected);
    }
  });

  it("writes the very bytes protobuf-es writes, twice in a row (cached)", () => {
    for (const response of responses) {
      const expected = toBinary(GetStatusResponseSchema, response);
      expect(statusResponseBinary(response)).toEqual(expected);
      expect(statusResponseBinary(response)).toEqual(expected);
    }
  });
});
