import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JOB_STATUS, POLLING_MODES, RateLimitError } from "../../client/index.js";
import { sleep } from "../../client/retries/sleep.js";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { clientFor, postJson, type RunningServer, rawClient, startServer } from "../support/start-server.js";

// Scenario "rate-limiter": past the short-poll or create limit the server answers
// RESOURCE_EXHAUSTED (HTTP 429) with a RetryInfo detail and a retry-after header; a client that
// waits as told is let through, and JobClient does so by itself.

describe("rate limiter", () => {
  // A server per test, so that each starts with fresh allowances.
  let server: RunningServer;
  beforeEach(async () => {
    server = await startServer({ shortPollRate: 5, createRate: 3 });
  });
  afterEach(async () => {
    await server.close();
  });

  it("answers short polls past the limit with HTTP 429, retry-after and a RetryInfo detail", async () => {
    const { job } = await rawClient(server.url).createJob({ processingDuration: { seconds: 10n } });
    const answers = [];
    for (let i = 0; i < 8; i++) {
      answers.push(await postJson(server.url, "GetStatus", { jobId: job!.id }));
    }
    const refused = answers.filter((answer) => answer.status === 429);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(5);
    expect(refused).toHaveLength(3);
    const first = refused[0]!;
    expect(first.body.code).toBe("resource_exhausted");
    expect(Number(first.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const details = first.body.details as { type: string; debug: { retryDelay: string } }[];
    expect(details[0]?.type).toBe("google.rpc.RetryInfo");
    expect(details[0]?.debug.retryDelay).toMatch(/^\d+(\.\d+)?s$/);
  });

  it("lets a caller through again once it has waited the RetryInfo delay", async () => {
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 10n } });
    let refusal: ConnectError | undefined;
    for (let i = 0; i < 10 && refusal === undefined; i++) {
      await raw.getStatus({ jobId: job!.id }).catch((error: unknown) => {
        refusal = ConnectError.from(error);
      });
    }
    expect(refusal?.code).toBe(Code.ResourceExhausted);
    const [info] = refusal!.findDetails(RetryInfoSchema);
    await sleep(durationMs(info!.retryDelay!));
    const reply = await raw.getStatus({ jobId: job!.id });
    expect(reply.job?.state).toBe(JOB_STATUS.PENDING);
  });

  it("limits creates per caller too", async () => {
    const raw = rawClient(server.url);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => raw.createJob({ processingDuration: { seconds: 1n } })),
    );
    const refused = results.filter((result) => result.status === "rejected");
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(ConnectError.from((refused[0] as PromiseRejectedResult).reason).code).toBe(Code.ResourceExhausted);
  });

  it("limits ListJobs per caller too (LIST_RATE), a page at a time", async () => {
    const listing = await startServer({ listRate: 2 });
    try {
      const raw = rawClient(listing.url);
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => raw.listJobs({})));
      expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(2);
      const refused = results.flatMap((result) => (result.status === "rejected" ? [ConnectError.from(result.reason)] : []));
      expect(refused.map((error) => error.code)).toEqual([Code.ResourceExhausted, Code.ResourceExhausted]);
      expect(refused[0]?.findDetails(RetryInfoSchema)).toHaveLength(1);
    } finally {
      await listing.close();
    }
  });

  it("throws RateLimitError with retryAfterMs when retries are off", async () => {
    const { client } = clientFor(server.url, { maxRetries: 0 });
    const job = await client.createJob({ processingDurationMs: 10_000 });
    const error = await (async () => {
      for (let i = 0; i < 10; i++) {
        await client.getStatus(job.id);
      }
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBeGreaterThan(0);
    expect((error as RateLimitError).retryAfterMs).toBeLessThanOrEqual(1_000);
  });

  it("rides through the limit: JobClient waits as told and every call succeeds", async () => {
    const { client, counter } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 1_000 });
    const statuses = await Promise.all(Array.from({ length: 12 }, () => client.getStatus(job.id)));
    expect(statuses.every((status) => status.job.id === job.id)).toBe(true);
    expect(counter.failures.get(Code.ResourceExhausted)).toBeGreaterThan(0);
    const done = await client.awaitCompletion(job.id, { mode: POLLING_MODES.SHORT, pollIntervalMs: 50, timeoutMs: 10_000 });
    expect(done.state).toBe(JOB_STATUS.COMPLETED);
  });
});
