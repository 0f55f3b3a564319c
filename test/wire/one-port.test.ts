import { spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { HeldWaits } from "../../server/waits/held-waits.js";
import { untilHeld } from "../support/held-count.js";
import { type RunningServer, startServer } from "../support/start-server.js";

// One port speaks HTTP/1.1 and HTTP/2 cleartext, with every protocol each HTTP version allows,
// and notices at once when a caller leaves a held wait. "At once" is asserted as "long before
// the 20 s wait would have ended": a bound of several seconds, which a loaded machine keeps.

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
      await untilHeld(heldWaits, 1);
      controller.abort();
      await waiting;
      await untilHeld(heldWaits, 0, { timeoutMs: 5_000 });
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
    try {
      await untilHeld(heldWaits, 1);
      socket.end();
      await untilHeld(heldWaits, 0, { timeoutMs: 5_000 });
    } finally {
      socket.destroy();
    }
  });

  it("releases a held wait when the process of an HTTP/2 caller dies", async () => {
    const client = createClient(JobService, transports[0]![1]());
    const { job } = await client.createJob({ processingDuration: { seconds: 30n } });
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/hold-wait.ts", server.url, job!.id], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      // The child compiles its script first (tsx), which takes a while on a busy machine.
      await untilHeld(heldWaits, 1, { timeoutMs: 20_000 });
      child.kill("SIGKILL");
      await untilHeld(heldWaits, 0, { timeoutMs: 5_000 });
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("closing with HTTP/2 sessions open", () => {
  it("answers the held gRPC wait and closes without waiting it out", async () => {
    const server = await startServer();
    try {
      const client = createClient(JobService, createGrpcTransport({ baseUrl: server.url }));
      const { job } = await client.createJob({ processingDuration: { seconds: 30n } });
      const waiting = client.getStatus({ jobId: job!.id, wait: { seconds: 20n }, knownVersion: 1n });
      waiting.catch(() => undefined);
      await untilHeld(server.url, 1);
      const started = Date.now();
      await server.close();
      expect((await waiting).job?.state).toBe(JobState.PENDING);
      // The wait holds 20 s (and the HTTP/2 session stays open): well before that, close did not wait.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await server.close();
    }
  });
});
