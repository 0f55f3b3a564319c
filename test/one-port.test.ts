import { spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { JobState } from "../gen/jobs/v1/job_pb.js";
import { JobService } from "../gen/jobs/v1/job_service_pb.js";
import { HeldWaits } from "../server/service/held-waits.js";
import { type RunningServer, startServer } from "./support/start-server.js";

// One port speaks HTTP/1.1 and HTTP/2 cleartext, with every protocol each HTTP version allows,
// and notices at once when a caller leaves a held wait.

describe("one port for every protocol", () => {
  let server: RunningServer;
  const heldWaits = new HeldWaits();
  beforeAll(async () => {
    server = await startServer({ heldWaits, createRate: 0, shortPollRate: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  const transports: [string, () => Transport][] = [
    ["Connect over HTTP/1.1", () => createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" })],
    ["Connect over HTTP/2", () => createConnectTransport({ baseUrl: server.url, httpVersion: "2" })],
    ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl: server.url })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" })],
    ["gRPC-Web over HTTP/2", () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "2" })],
  ];

  for (const [name, transport] of transports) {
    it(`creates a job, long-waits for its end and streams it with ${name}`, async () => {
      const client = createClient(JobService, transport());
      const { job } = await client.createJob({ processingDuration: { nanos: 300_000_000 } });
      const reply = await client.getStatus({ jobId: job!.id, wait: { seconds: 5n }, knownVersion: 1n });
      expect(reply.job?.state).toBe(JobState.COMPLETED);
      const error = await client.getStatus({ jobId: "nope" }).then(
        () => undefined,
        (caught: unknown) => ConnectError.from(caught),
      );
      expect(error?.code).toBe(Code.InvalidArgument);

      const watched = await client.createJob({ processingDuration: { nanos: 200_000_000 } });
      const states: JobState[] = [];
      for await (const update of client.watchJob({ jobId: watched.job!.id })) {
        states.push(update.job!.state);
      }
      expect(states).toEqual([JobState.PENDING, JobState.COMPLETED]);
    });
  }

  for (const [name, transport] of [transports[0]!, transports[2]!]) {
    it(`releases a held wait at once when its caller aborts (${name})`, async () => {
      const client = createClient(JobService, transport());
      const { job } = await client.createJob({ processingDuration: { seconds: 30n } });
      const controller = new AbortController();
      const waiting = client
        .getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n }, { signal: controller.signal })
        .catch(() => undefined);
      await vi.waitFor(() => expect(heldWaits.size).toBe(1));
      controller.abort();
      await waiting;
      await vi.waitFor(() => expect(heldWaits.size).toBe(0), { timeout: 500 });
    });
  }

  it("releases a held wait when an HTTP/1.1 caller half-closes its connection", async () => {
    const client = createClient(JobService, transports[0]![1]());
    const { job } = await client.createJob({ processingDuration: { seconds: 30n } });
    const body = JSON.stringify({ jobId: job!.id, wait: "20s", knownVersion: "1" });
    const socket = netConnect(Number(new URL(server.url).port), "127.0.0.1");
    socket.on("error", () => undefined);
    socket.write(
      `POST /jobs.v1.JobService/GetStatus HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await vi.waitFor(() => expect(heldWaits.size).toBe(1));
    socket.end();
    await vi.waitFor(() => expect(heldWaits.size).toBe(0), { timeout: 500 });
    socket.destroy();
  });

  it("releases a held wait when the process of an HTTP/2 caller dies", async () => {
    const client = createClient(JobService, transports[0]![1]());
    const { job } = await client.createJob({ processingDuration: { seconds: 30n } });
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/hold-wait.ts", server.url, job!.id], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await vi.waitFor(() => expect(heldWaits.size).toBe(1), { timeout: 10_000 });
      child.kill("SIGKILL");
      await vi.waitFor(() => expect(heldWaits.size).toBe(0), { timeout: 500 });
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("closing with HTTP/2 sessions open", () => {
  it("answers the held gRPC wait and closes within a second", async () => {
    const server = await startServer();
    const client = createClient(JobService, createGrpcTransport({ baseUrl: server.url }));
    const { job } = await client.createJob({ processingDuration: { seconds: 30n } });
    const waiting = client.getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await server.close();
    expect((await waiting).job?.state).toBe(JobState.PENDING);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
