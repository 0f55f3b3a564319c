import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// A server that cannot listen says why in one line and what to set instead, then exits 1: the
// compiled server/main.ts (`npm test` builds it), as `npm start` runs it.

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
