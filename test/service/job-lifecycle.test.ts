import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JOB_STATUS, JobClientError, JobNotFoundError, JobState } from "../../client/index.js";
import { untilHeld } from "../support/held-count.js";
import { clientFor, type RunningServer, rawClient, startServer } from "../support/start-server.js";

// CreateJob's idempotency, CancelJob and ListJobs paging, through JobClient and the raw stubs.

const requestId = "6f1c2d9e-8a4b-4c6d-9e0f-123456789abc";

async function codeOf(promise: Promise<unknown>): Promise<Code | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => ConnectError.from(error).code,
  );
}

describe("job life cycle", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  describe("CreateJob", () => {
    it("returns the same job, and creates no second one, when a request_id repeats", async () => {
      const raw = rawClient(server.url);
      const first = await raw.createJob({ processingDuration: { seconds: 30n }, requestId });
      const again = await raw.createJob({ processingDuration: { seconds: 30n }, requestId: requestId.toUpperCase() });
      expect(again.job?.id).toBe(first.job?.id);
      expect(first.job?.requestId).toBe(requestId);
      const { jobs } = await raw.listJobs({ pageSize: 500 });
      expect(jobs.filter((job) => job.requestId === requestId)).toHaveLength(1);
    });

    it("refuses a request_id reused for a different request with ALREADY_EXISTS", async () => {
      const raw = rawClient(server.url);
      const id = "0b7e8f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
      await raw.createJob({ processingDuration: { seconds: 30n }, requestId: id });
      expect(await codeOf(raw.createJob({ processingDuration: { seconds: 31n }, requestId: id }))).toBe(Code.AlreadyExists);
      expect(await codeOf(raw.createJob({ processingDuration: { seconds: 30n }, requestId: id, shouldError: true }))).toBe(
        Code.AlreadyExists,
      );
    });

    it("sends a fresh request_id with every JobClient create", async () => {
      const { client } = clientFor(server.url);
      const a = await client.createJob({ processingDurationMs: 10 });
      const b = await client.createJob({ processingDurationMs: 10 });
      expect(a.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(b.requestId).not.toBe(a.requestId);
      expect(b.id).not.toBe(a.id);
    });
  });

  describe("CancelJob", () => {
    it("cancels a pending job, wakes its long waiters, and the job never completes afterwards", async () => {
      const { client } = clientFor(server.url);
      const job = await client.createJob({ processingDurationMs: 2_000 });
      // Due just after it: once this one has completed, the runner's timer for the first has fired.
      const witness = await client.createJob({ processingDurationMs: 2_100 });
      const waiting = client.awaitCompletion(job.id, { timeoutMs: 10_000 });
      await untilHeld(server.url, 1);
      const cancelled = await client.cancelJob(job.id);
      expect(cancelled.state).toBe(JOB_STATUS.CANCELLED);
      expect(cancelled.version).toBe(2n);
      expect((await waiting).state).toBe(JOB_STATUS.CANCELLED);
      expect((await client.awaitCompletion(witness.id, { timeoutMs: 10_000 })).state).toBe(JOB_STATUS.COMPLETED);
      const { job: later } = await client.getStatus(job.id);
      expect(later.state).toBe(JOB_STATUS.CANCELLED);
      expect(later.version).toBe(2n);
    });

    it("refuses to cancel a job that has ended with FAILED_PRECONDITION", async () => {
      const { client } = clientFor(server.url);
      const job = await client.createJob({ processingDurationMs: 0 });
      await client.awaitCompletion(job.id);
      const error = await client.cancelJob(job.id).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(JobClientError);
      expect((error as JobClientError).code).toBe(Code.FailedPrecondition);
    });

    it("throws JobNotFoundError for an unknown job", async () => {
      const { client } = clientFor(server.url);
      const error = await client.cancelJob("AAAAAAAAAAAAAAAAAAAAAA").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(JobNotFoundError);
      expect((error as JobNotFoundError).jobId).toBe("AAAAAAAAAAAAAAAAAAAAAA");
    });
  });

  describe("ListJobs", () => {
    it("pages through every job, newest first, with each job listed once", async () => {
      const listServer = await startServer({ createRate: 0 });
      try {
        const { client } = clientFor(listServer.url);
        const created = [];
        for (let i = 0; i < 7; i++) {
          created.push(await client.createJob({ processingDurationMs: 60_000 }));
        }
        const seen = [];
        let pageToken = "";
        let pages = 0;
        do {
          const page = await client.listJobs({ pageSize: 3, pageToken });
          expect(page.jobs.length).toBeLessThanOrEqual(3);
          seen.push(...page.jobs);
          pageToken = page.nextPageToken;
          pages++;
        } while (pageToken !== "");
        expect(pages).toBe(3);
        expect(seen.map((job) => job.id)).toEqual(created.map((job) => job.id).reverse());
      } finally {
        await listServer.close();
      }
    });

    it("filters by state, and refuses a page token used with another filter", async () => {
      const listServer = await startServer({ createRate: 0 });
      try {
        const { client } = clientFor(listServer.url);
        const jobs = [];
        for (let i = 0; i < 4; i++) {
          jobs.push(await client.createJob({ processingDurationMs: 60_000 }));
        }
        await client.cancelJob(jobs[0]!.id);
        await client.cancelJob(jobs[2]!.id);
        const cancelled = await client.listJobs({ state: JobState.CANCELLED, pageSize: 1 });
        expect(cancelled.jobs.map((job) => job.id)).toEqual([jobs[2]!.id]);
        const rest = await client.listJobs({ state: JobState.CANCELLED, pageToken: cancelled.nextPageToken });
        expect(rest.jobs.map((job) => job.id)).toEqual([jobs[0]!.id]);
        expect(rest.nextPageToken).toBe("");
        const error = await client
          .listJobs({ state: JobState.PENDING, pageToken: cancelled.nextPageToken })
          .catch((caught: unknown) => caught);
        expect((error as JobClientError).code).toBe(Code.InvalidArgument);
      } finally {
        await listServer.close();
      }
    });
  });
});
