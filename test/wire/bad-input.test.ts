import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, type RunningServer, startServer } from "../support/start-server.js";

// Every bad input gets a clear Connect error with the right code and changes nothing.

const unknownId = "AAAAAAAAAAAAAAAAAAAAAA";

const cases: { name: string; method: string; body: unknown; code: string; message?: RegExp }[] = [
  { name: "an empty job id", method: "GetStatus", body: { jobId: "" }, code: "invalid_argument", message: /job_id is required/ },
  {
    name: "a malformed job id",
    method: "GetStatus",
    body: { jobId: "../etc/passwd" },
    code: "invalid_argument",
    message: /job_id is malformed/,
  },
  { name: "an unknown job id", method: "GetStatus", body: { jobId: unknownId }, code: "not_found" },
  { name: "an unknown job id, long wait", method: "GetStatus", body: { jobId: unknownId, wait: "5s" }, code: "not_found" },
  {
    name: "a negative wait",
    method: "GetStatus",
    body: { jobId: unknownId, wait: "-1s" },
    code: "invalid_argument",
    message: /wait must not be negative/,
  },
  {
    name: "a wait that is not a duration",
    method: "GetStatus",
    body: { jobId: unknownId, wait: "soon" },
    code: "invalid_argument",
  },
  {
    name: "a missing processing duration",
    method: "CreateJob",
    body: {},
    code: "invalid_argument",
    message: /processing_duration is required/,
  },
  {
    name: "a negative processing duration",
    method: "CreateJob",
    body: { processingDuration: "-2s" },
    code: "invalid_argument",
    message: /must not be negative/,
  },
  {
    name: "an absurd processing duration",
    method: "CreateJob",
    body: { processingDuration: "315576000000s" },
    code: "invalid_argument",
    message: /at most 3600s/,
  },
  {
    name: "a request id that is not a UUID",
    method: "CreateJob",
    body: { processingDuration: "1s", requestId: "retry-1" },
    code: "invalid_argument",
    message: /request_id must be a UUID/,
  },
  {
    name: "a field of the wrong type",
    method: "CreateJob",
    body: { processingDuration: "1s", shouldError: "yes" },
    code: "invalid_argument",
  },
  { name: "malformed JSON", method: "CreateJob", body: "{processingDuration:", code: "invalid_argument" },
  { name: "an empty job id to cancel", method: "CancelJob", body: {}, code: "invalid_argument" },
  { name: "an unknown job to cancel", method: "CancelJob", body: { jobId: unknownId }, code: "not_found" },
  { name: "a negative page size", method: "ListJobs", body: { pageSize: -1 }, code: "invalid_argument" },
  { name: "a page token the server did not make", method: "ListJobs", body: { pageToken: "bm9wZQ" }, code: "invalid_argument" },
  { name: "a state outside the enum", method: "ListJobs", body: { state: 42 }, code: "invalid_argument" },
];

describe("bad input", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ maxBodyBytes: 4_096 });
  });
  afterAll(async () => {
    await server.close();
  });

  for (const { name, method, body, code, message } of cases) {
    it(`answers ${name} (${method}) with ${code}`, async () => {
      const answer = await postJson(server.url, method, body);
      expect(answer.body.code).toBe(code);
      if (message !== undefined) {
        expect(answer.body.message).toMatch(message);
      }
    });
  }

  it("refuses a body over the size limit before any handler runs", async () => {
    const answer = await postJson(server.url, "CreateJob", { processingDuration: "1s", requestId: "x".repeat(10_000) });
    expect(answer.body.code).toBe("resource_exhausted");
    expect(answer.body.message).toMatch(/message size/);
  });

  it("refuses a content type Connect does not speak with HTTP 415", async () => {
    const response = await fetch(`${server.url}/jobs.v1.JobService/CreateJob`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "processingDuration=1s",
    });
    expect(response.status).toBe(415);
  });

  it("has created no job through any of the bad calls", async () => {
    const answer = await postJson(server.url, "ListJobs", {});
    expect(answer.body.jobs ?? []).toEqual([]);
  });
});
