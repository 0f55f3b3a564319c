import http from "node:http";
import http2 from "node:http2";
import { connect as netConnect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";
import { waitUntil } from "../support/wait-until.js";

// SIGTERM as a process sees it (server/main.ts): the port keeps answering for SHUTDOWN_GRACE
// (health NOT_SERVING, JobService UNAVAILABLE, clients told to go), then closes, and the process
// exits within DRAIN_TIMEOUT whatever its connections are doing.

const servers: ServerProcess[] = [];
const sockets: { destroy(): void }[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    socket.destroy();
  }
  await Promise.all(servers.splice(0).map((server) => server.stop("SIGKILL")));
});

async function spawn(env: Record<string, string>): Promise<ServerProcess> {
  const server = await spawnServer(env);
  servers.push(server);
  return server;
}

function rawSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = netConnect(Number(port), hostname);
  socket.on("error", () => undefined);
  sockets.push(socket);
  return new Promise((resolve) => socket.once("connect", () => resolve(socket)));
}

function postJson(
  url: string,
  path: string,
  body: unknown,
): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${url}${path}`,
      { method: "POST", headers: { "content-type": "application/json" }, agent: false },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, body: text }),
        );
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}

/** Resolves once the server's log has a line matching `pattern`. */
function logged(server: ServerProcess, pattern: RegExp): Promise<void> {
  return waitUntil(() => pattern.test(server.output()), { intervalMs: 20, what: `a log line matching ${pattern}` });
}

describe("SIGTERM", () => {
  it("exits within DRAIN_TIMEOUT while connections are stuck mid-request on HTTP/1.1 and HTTP/2", async () => {
    const server = await spawn({ DRAIN_TIMEOUT: "1s", REQUEST_TIMEOUT: "5m" });
    // A body that never ends, headers that never end, and an HTTP/2 stream that never ends.
    const body = await rawSocket(server.url);
    body.write(
      "POST /jobs.v1.JobService/CreateJob HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    const headers = await rawSocket(server.url);
    headers.write("POST /jobs.v1.JobService/CreateJob HTTP/1.1\r\nHost: x\r\n");
    const session = http2.connect(server.url);
    session.on("error", () => undefined);
    sockets.push(session);
    const stream = session.request({
      ":method": "POST",
      ":path": "/jobs.v1.JobService/GetStatus",
      "content-type": "application/grpc",
    });
    stream.on("error", () => undefined);
    stream.write(Buffer.from([0, 0, 0, 0, 10]));
    await new Promise((resolve) => session.once("remoteSettings", resolve));

    const started = Date.now();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    // DRAIN_TIMEOUT is 1 s; the process takes more to start and stop on a loaded machine.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("keeps answering for SHUTDOWN_GRACE: health NOT_SERVING, UNAVAILABLE with Connection: close, GOAWAY; then exits", async () => {
    const server = await spawn({ SHUTDOWN_GRACE: "3s", DRAIN_TIMEOUT: "1s" });
    const created = await postJson(server.url, "/jobs.v1.JobService/CreateJob", { processingDuration: "60s" });
    expect(created.status).toBe(200);
    const session = http2.connect(server.url);
    session.on("error", () => undefined);
    sockets.push(session);
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));

    server.child.kill("SIGTERM");
    await logged(server, /closing: answering held waits/);
    await goaway;
    const health = await postJson(server.url, "/grpc.health.v1.Health/Check", {});
    expect(health).toMatchObject({ status: 200, connection: "close" });
    expect(JSON.parse(health.body)).toEqual({ status: "NOT_SERVING" });
    const refused = await postJson(server.url, "/jobs.v1.JobService/CreateJob", { processingDuration: "1s" });
    expect(refused).toMatchObject({ status: 503, connection: "close" });
    expect(JSON.parse(refused.body)).toMatchObject({ code: "unavailable" });

    expect(await server.exited).toBe(0);
  });

  it("lets workers report the jobs they hold during SHUTDOWN_GRACE, and refuses their new claims", async () => {
    const server = await spawn({ SHUTDOWN_GRACE: "3s", DRAIN_TIMEOUT: "1s" });
    const created = await postJson(server.url, "/jobs.v1.JobService/CreateJob", { kind: "grace" });
    const jobId = (JSON.parse(created.body) as { job: { id: string } }).job.id;
    const claim = await postJson(server.url, "/jobs.v1.WorkerService/ClaimJob", { kinds: ["grace"], wait: "5s" });
    const { leaseToken } = JSON.parse(claim.body) as { leaseToken: string };

    server.child.kill("SIGTERM");
    await logged(server, /closing: answering held waits/);
    const beat = await postJson(server.url, "/jobs.v1.WorkerService/Heartbeat", { jobId, leaseToken });
    expect(beat.status).toBe(200);
    const again = await postJson(server.url, "/jobs.v1.WorkerService/ClaimJob", { kinds: ["grace"], wait: "5s" });
    expect(again.status).toBe(503);
    const done = await postJson(server.url, "/jobs.v1.WorkerService/CompleteJob", { jobId, leaseToken, result: "ok" });
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toMatchObject({ job: { state: "JOB_STATE_COMPLETED", result: "ok" } });
    expect(await server.exited).toBe(0);
  });
});
