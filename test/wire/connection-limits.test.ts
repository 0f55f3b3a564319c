import http from "node:http";
import http2 from "node:http2";
import { connect as netConnect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createOnePortServer } from "../../server/transport/one-port-server.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { waitUntil } from "../support/wait-until.js";
import { rawH2 } from "../support/wire/raw-h2.js";

// Every connection is bounded in time and in streams, on both protocols: nothing a client
// leaves open (idle, half-sent, unanswered, reset in a loop) stays open.

const GET_STATUS = "/jobs.v1.JobService/GetStatus";
/** What each test started, closed after it (a result of `void` is fine: only promises are awaited). */
const closers: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function serve(options: Parameters<typeof startServer>[0]): Promise<RunningServer> {
  const server = await startServer(options);
  closers.push(() => server.close());
  return server;
}

function h2(url: string): http2.ClientHttp2Session {
  const session = http2.connect(url);
  session.on("error", () => undefined);
  closers.push(() => {
    session.destroy();
  });
  return session;
}

function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = netConnect(Number(port), hostname);
  socket.on("error", () => undefined);
  closers.push(() => {
    socket.destroy();
  });
  return new Promise((resolve) => socket.once("connect", () => resolve(socket)));
}

/** Everything the server writes until it closes the socket. */
function readToClose(socket: Socket): Promise<string> {
  let text = "";
  socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
  return new Promise((resolve) => socket.once("close", () => resolve(text)));
}

/** The gRPC frame of a long wait on `jobId`, encoded by hand: job_id, wait, known_version 1. */
function longWaitFrame(jobId: string, waitSeconds: number): Buffer {
  const id = Buffer.from(jobId);
  const message = Buffer.concat([Buffer.from([0x0a, id.length]), id, Buffer.from([0x12, 0x02, 0x08, waitSeconds, 0x18, 0x01])]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

describe("connection limits", () => {
  it("tells HTTP/2 clients the stream limit: a finite MAX_CONCURRENT_STREAMS, MAX_STREAMS_PER_CONNECTION", async () => {
    const server = await serve({ maxStreamsPerConnection: 7 });
    const session = h2(server.url);
    const settings = await new Promise<http2.Settings>((resolve) => session.once("remoteSettings", resolve));
    expect(settings.maxConcurrentStreams).toBe(7);
    const byDefault = h2((await serve({})).url);
    expect((await new Promise<http2.Settings>((resolve) => byDefault.once("remoteSettings", resolve))).maxConcurrentStreams).toBe(
      1_000,
    );
  });

  it("closes an HTTP/2 connection with no stream open for IDLE_TIMEOUT, and keeps one holding a wait", async () => {
    const server = await serve({ idleTimeoutMs: 1_000 });
    const { job } = await rawClient(server.url).createJob({ processingDuration: { seconds: 60n } });
    const idle = h2(server.url);
    const busy = h2(server.url);
    const busyGoaway = new Promise<number>((resolve) => busy.once("goaway", () => resolve(Date.now())));
    const idleGone = new Promise<void>((resolve) => idle.once("goaway", () => resolve()));
    // Held 2.5 s, past the idle timeout: the answer (the unchanged job) comes before any GOAWAY.
    const held = busy.request({ ":method": "POST", ":path": GET_STATUS, "content-type": "application/grpc", te: "trailers" });
    const answered = new Promise<{ status: string | undefined; at: number }>((resolve) => {
      held.on("trailers", (trailers) => resolve({ status: trailers["grpc-status"] as string | undefined, at: Date.now() }));
    });
    held.resume();
    held.end(longWaitFrame(job!.id, 2));
    await idleGone;
    const answer = await answered;
    expect(answer.status).toBe("0");
    expect(await busyGoaway).toBeGreaterThanOrEqual(answer.at);
  });

  it("closes an HTTP/1.1 keep-alive connection left idle for IDLE_TIMEOUT", async () => {
    const server = await serve({ idleTimeoutMs: 1_000 });
    const agent = new http.Agent({ keepAlive: true });
    closers.push(() => agent.destroy());
    const socket = await new Promise<Socket>((resolve) => {
      const request = http.get(`${server.url}/metrics`, { agent }, (response) => {
        response.resume();
        resolve(request.socket as Socket);
      });
    });
    await new Promise((closed) => socket.once("close", closed));
  });

  it("resets an HTTP/2 stream whose request has not all come within REQUEST_TIMEOUT", async () => {
    const server = await serve({ requestTimeoutMs: 1_000 });
    const session = h2(server.url);
    for (const path of [GET_STATUS, "/jobs.v1.JobService/CreateJob"]) {
      const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc" });
      stream.on("error", () => undefined);
      stream.write(Buffer.from([0, 0, 0, 0, 10, 0x0a]));
      await new Promise((resolve) => stream.once("close", resolve));
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    }
  });

  it("answers 408 and closes an HTTP/1.1 connection whose body or headers stall past REQUEST_TIMEOUT", async () => {
    const server = await serve({ requestTimeoutMs: 1_000 });
    const body = await rawSocket(server.url);
    const bodyAnswer = readToClose(body);
    body.write(
      "POST /jobs.v1.JobService/CreateJob HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    expect(await bodyAnswer).toMatch(/^HTTP\/1\.1 408/);
    const headers = await rawSocket(server.url);
    const headersAnswer = readToClose(headers);
    headers.write("POST /jobs.v1.JobService/CreateJob HTTP/1.1\r\nHost: x\r\n");
    expect(await headersAnswer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("drops a connection that sends nothing at all", async () => {
    const server = await serve({ requestTimeoutMs: 1_000 });
    const silent = await rawSocket(server.url);
    expect(await readToClose(silent)).toBe("");
  });

  it("ends an HTTP/2 session that resets streams as fast as it opens them, and closes its socket", async () => {
    const server = await serve({});
    const attacker = await rawH2(server.url);
    closers.push(() => attacker.destroy());
    for (let i = 0; i < 2_000; i++) {
      attacker.open(1 + 2 * i, GET_STATUS, "application/grpc");
      attacker.reset(1 + 2 * i);
    }
    await attacker.closed;
    // Others are served as before.
    const { job } = await rawClient(server.url).createJob({ processingDuration: { seconds: 1n } });
    expect(job?.version).toBe(1n);
  });
});

describe("keepalive pings", () => {
  async function neverAnswering(): Promise<string> {
    const onePort = createOnePortServer({
      // Holds every request, as a long wait would.
      handler: () => undefined,
      maxStreamsPerConnection: 10,
      idleTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      pingIntervalMs: 200,
      pingTimeoutMs: 300,
    });
    await new Promise<void>((resolve) => onePort.server.listen(0, "127.0.0.1", resolve));
    closers.push(() => {
      onePort.destroyConnections();
      return new Promise((resolve) => onePort.server.close(resolve));
    });
    const address = onePort.server.address() as { port: number };
    return `http://127.0.0.1:${address.port}`;
  }

  it("ends an HTTP/2 connection whose peer stops answering pings while a stream is open", async () => {
    const url = await neverAnswering();
    const peer = await rawH2(url);
    closers.push(() => peer.destroy());
    peer.open(1, GET_STATUS, "application/grpc");
    await peer.closed;
  });

  it("keeps a connection whose peer answers pings, however long its stream is held", async () => {
    const url = await neverAnswering();
    const session = h2(url);
    const stream = session.request({ ":method": "POST", ":path": GET_STATUS, "content-type": "application/grpc" });
    stream.on("error", () => undefined);
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
    let pings = 0;
    session.on("ping", () => pings++);
    // Many ping timeouts long: the pings are answered (node:http2 does), so nothing ends.
    await waitUntil(() => pings >= 5, { what: () => `5 pings (${pings} so far)` });
    expect(session.closed || session.destroyed).toBe(false);
    expect(stream.closed).toBe(false);
  });
});
