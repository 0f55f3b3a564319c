import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, spawnListening, spawnServer } from "../support/spawn-server.js";
import { waitUntil } from "../support/wait-until.js";

// What the compiled server/main.ts (`npm test` builds it), as `npm start` runs it, says as it
// starts: once it listens, one line of what it serves and where to look next (JSON off a
// terminal, readable lines on one); when it cannot listen, why and what to set, then exit 1.

const SERVER_MAIN = fileURLToPath(new URL("../../jobs/dist/server/main.js", import.meta.url));
const execFileAsync = promisify(execFile);

let taken: Server;
let takenPort: number;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
});

/** Runs the server with `env` added until it exits: its exit status and all it printed. */
async function serverExit(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return execFileAsync(process.execPath, [SERVER_MAIN], { env: { ...process.env, ...env }, timeout: 20_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
  );
}

describe("a server that starts", () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("logs, once it listens, what it serves, its store and main limits, and where to look next, as JSON fields too", async () => {
    const started = await spawnServer({ MAX_WAIT: "20s", CREATE_RATE: "5" });
    server = started;
    await waitUntil(() => started.output().includes("serving jobs.v1.JobService"), { what: () => started.output() });
    const line = started
      .output()
      .split("\n")
      .map((text) => (text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : {}))
      .find((entry) => String(entry.msg).startsWith("serving"));
    expect(line).toMatchObject({ url: started.url, store: "memory", apiKeys: 0, maxWaitMs: 20_000, createRate: 5 });
    const msg = String(line?.msg);
    for (const part of [
      `at ${started.url}: Connect, gRPC and gRPC-Web over HTTP/1.1 and h2c`,
      "store memory (this process only)",
      "open (no API keys)",
      "long waits up to 20s",
      "creates 5/s per caller",
      `The page: ${started.url}/`,
      `metrics: ${started.url}/metrics`,
    ]) {
      expect(msg).toContain(part);
    }
  });

  it("logs readable lines, not JSON, on a terminal", async () => {
    // script(1) gives the server a terminal for its stdout.
    const started = await spawnListening("script", ["-qec", `${process.execPath} ${SERVER_MAIN}`, "/dev/null"], {
      env: { ...process.env, PORT: "0", LOG_LEVEL: "info" },
    });
    server = started;
    await waitUntil(() => started.output().includes("serving jobs.v1.JobService"), { what: () => started.output() });
    const lines = started
      .output()
      .split(/\r?\n/)
      .filter((text) => text.includes("serving jobs.v1.JobService"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*serving jobs\.v1\.JobService/);
    expect(lines[0]).not.toContain("{");
  });
});

describe("a server that cannot listen", () => {
  it("exits 1 saying its port is in use, and to set PORT", async () => {
    const { code, output } = await serverExit({ PORT: String(takenPort), LOG_LEVEL: "info" });
    expect(code).toBe(1);
    expect(output).toContain(`could not listen on 127.0.0.1:${takenPort}: the port is in use (set PORT to another one`);
  });

  it("exits 1 saying no interface has its HOST address", async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): documentation only, on no machine's interface.
    const { code, output } = await serverExit({ PORT: "0", HOST: "192.0.2.1", LOG_LEVEL: "info" });
    expect(code).toBe(1);
    expect(output).toContain("could not listen on 192.0.2.1:0: no network interface here has that address (set HOST)");
  });
});
