import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobClientError, JobNotFoundError } from "../../client/index.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { captureLog } from "../support/capture-log.js";
import { clientFor, postJson, type RunningServer, rawClient, startServer } from "../support/start-server.js";

// API_KEYS: with keys configured, JobService calls need a valid key; each key sees only its own
// jobs and has its own rate limits; health and reflection stay open; keys are never logged.

const keyA = "key-a-9f8e7d6c5b4a3210";
const keyB = "key-b-0123456789abcdef";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("API keys", () => {
  let server: RunningServer;
  const log = captureLog("debug");
  beforeAll(async () => {
    server = await startServer({ apiKeys: [keyA, keyB], shortPollRate: 2, logger: log.logger });
  });
  afterAll(async () => {
    await server.close();
  });

  it("refuses a JobClient without a key with UNAUTHENTICATED, without retrying", async () => {
    const { client, counter } = clientFor(server.url);
    const error = await client.createJob({ processingDurationMs: 1_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobClientError);
    expect((error as JobClientError).code).toBe(Code.Unauthenticated);
    expect(counter.total()).toBe(1);
  });

  it("answers HTTP 401 with www-authenticate: Bearer over Connect JSON without a key", async () => {
    const answer = await postJson(server.url, "CreateJob", { processingDuration: "1s" });
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toBe("Bearer");
    expect(answer.body.code).toBe("unauthenticated");
    expect(answer.body.message).toMatch(/valid API key is required/);
  });

  it("refuses a wrong key, and a right key sent with another scheme", async () => {
    const { client } = clientFor(server.url, { apiKey: "key-c-not-configured-at-all" });
    await expect(client.listJobs()).rejects.toMatchObject({ code: Code.Unauthenticated });
    const basic = await postJson(server.url, "ListJobs", {}, { authorization: `Basic ${keyA}` });
    expect(basic.status).toBe(401);
    const prefix = await postJson(server.url, "ListJobs", {}, bearer(keyA.slice(0, -1)));
    expect(prefix.status).toBe(401);
  });

  it("accepts the key in an x-api-key header", async () => {
    const answer = await postJson(server.url, "CreateJob", { processingDuration: "1s" }, { "x-api-key": keyA });
    expect(answer.status).toBe(200);
    const again = await postJson(server.url, "GetStatus", { jobId: (answer.body.job as { id: string }).id }, bearer(keyA));
    expect(again.status).toBe(200);
  });

  it("hides a job from every key but the one that created it", async () => {
    const a = clientFor(server.url, { apiKey: keyA }).client;
    const b = clientFor(server.url, { apiKey: keyB }).client;
    const job = await a.createJob({ processingDurationMs: 30_000 });

    await expect(b.getStatus(job.id)).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(b.getStatus(job.id, { waitMs: 5_000, knownVersion: 1n })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(b.cancelJob(job.id)).rejects.toBeInstanceOf(JobNotFoundError);
    const watch = rawClient(server.url).watchJob({ jobId: job.id }, { headers: bearer(keyB) });
    await expect(watch[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.NotFound });

    expect((await a.getStatus(job.id)).job.id).toBe(job.id);
    expect((await a.cancelJob(job.id)).id).toBe(job.id);
  });

  it("lists only the caller's own jobs", async () => {
    const a = clientFor(server.url, { apiKey: keyA }).client;
    const b = clientFor(server.url, { apiKey: keyB }).client;
    const ofB = await b.createJob({ processingDurationMs: 1_000 });
    const ofA = await a.createJob({ processingDurationMs: 1_000 });

    const listedByB = (await b.listJobs({ pageSize: 500 })).jobs.map((job) => job.id);
    const listedByA = (await a.listJobs({ pageSize: 500 })).jobs.map((job) => job.id);
    expect(listedByB).toContain(ofB.id);
    expect(listedByB).not.toContain(ofA.id);
    expect(listedByA).toContain(ofA.id);
    expect(listedByA).not.toContain(ofB.id);
  });

  it("keeps rate limits per key: key A using up its short polls does not refuse key B", async () => {
    const raw = rawClient(server.url);
    const { job: ofA } = await raw.createJob({ processingDuration: { seconds: 30n } }, { headers: bearer(keyA) });
    const { job: ofB } = await raw.createJob({ processingDuration: { seconds: 30n } }, { headers: bearer(keyB) });
    let refused: unknown;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      await raw.getStatus({ jobId: ofA!.id }, { headers: bearer(keyA) }).catch((caught: unknown) => {
        refused = caught;
      });
    }
    expect(ConnectError.from(refused).code).toBe(Code.ResourceExhausted);
    const reply = await raw.getStatus({ jobId: ofB!.id }, { headers: bearer(keyB) });
    expect(reply.job?.id).toBe(ofB!.id);
  });

  it("leaves gRPC health open to callers without a key", async () => {
    const health = createClient(Health, createConnectTransport({ baseUrl: server.url }));
    expect((await health.check({ service: "jobs.v1.JobService" })).status).toBe(ServingStatus.SERVING);
  });

  it("leaves reflection open, and checks keys over gRPC too", async () => {
    const transport = createGrpcTransport({ baseUrl: server.url });
    const reflection = createClient(ServerReflection, transport);
    async function* listServices() {
      yield { messageRequest: { case: "listServices" as const, value: "" } };
    }
    const names: string[] = [];
    for await (const answer of reflection.serverReflectionInfo(listServices())) {
      if (answer.messageResponse.case === "listServicesResponse") {
        names.push(...answer.messageResponse.value.service.map((service) => service.name));
      }
    }
    expect(names).toContain("jobs.v1.JobService");

    const jobs = createClient(JobService, transport);
    await expect(jobs.listJobs({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(jobs.listJobs({}, { headers: bearer(keyA) })).resolves.toBeDefined();
  });

  it("never writes a key to the log", async () => {
    await postJson(server.url, "ListJobs", {}, bearer(keyB));
    expect(log.entries().some((entry) => entry.rpc === "jobs.v1.JobService/ListJobs")).toBe(true);
    expect(log.text()).not.toContain(keyA);
    expect(log.text()).not.toContain(keyB);
    expect(log.text()).not.toMatch(/authorization|x-api-key/i);
  });
});
