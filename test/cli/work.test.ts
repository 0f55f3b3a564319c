import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { metricValue } from "../support/metric-value.js";
import { closedPort, type RunningServer, rawClient, startServer } from "../support/start-server.js";
import { waitUntil } from "../support/wait-until.js";

// `jobs-cli work --kind NAME -- COMMAND` turns a program into a worker, and `jobs-cli create
// --kind NAME --input JSON --wait` follows its job: both on the compiled main its bin starts.

const CLI_MAIN = fileURLToPath(new URL("../../jobs/dist/cli/main.js", import.meta.url));
const PROGRESS_WORKER = fileURLToPath(new URL("fixtures/progress-worker.sh", import.meta.url));
const FAILING_WORKER = fileURLToPath(new URL("fixtures/failing-worker.sh", import.meta.url));

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

function cli(args: readonly string[], url: string): Running {
  const { JOBS_URL: _url, JOBS_API_KEY: _key, ...env } = process.env;
  const child = spawn(process.execPath, [CLI_MAIN, "--url", url, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

describe("jobs-cli work and create --kind", () => {
  let server: RunningServer;
  const workers: Running[] = [];
  beforeAll(async () => {
    server = await startServer({ createRate: 0, shortPollRate: 0 });
  });
  afterEach(async () => {
    for (const worker of workers.splice(0)) {
      worker.child.kill("SIGKILL");
    }
    // The server lets go of a dead worker's held claims once its connection is gone.
    await waitUntil(async () => (await metricValue(server.url, "held_claims")) === 0, { what: "no claim held" });
  });
  afterAll(async () => {
    await server.close();
  });

  /** Starts `jobs-cli work` and resolves once its claims are held. */
  async function startWorker(kind: string, command: string[], extra: string[] = []): Promise<Running> {
    const worker = cli(["work", "--kind", kind, ...extra, "--", ...command], server.url);
    workers.push(worker);
    await waitUntil(async () => (await metricValue(server.url, "held_claims")) > 0, {
      what: () => `the worker to claim; it said: ${worker.stderr()}`,
    });
    return worker;
  }

  it("runs `cat` as a worker: create --wait prints the job with the input as its result", async () => {
    await startWorker("echo", ["cat"]);
    const create = cli(["create", "--kind", "echo", "--input", '{"hello":"world"}', "--wait"], server.url);
    expect(await create.exited).toBe(0);
    const lines = create.stdout().trim().split("\n");
    expect(lines.at(-1)).toMatch(/COMPLETED +echo .*result \{"hello":"world"\}$/);
  });

  it("shows the worker's progress lines as they come, and the JSON the command printed as the result", async () => {
    await startWorker("steps", [PROGRESS_WORKER]);
    const create = cli(["--json", "create", "--kind", "steps", "--input", "[1,2]", "--wait"], server.url);
    expect(await create.exited).toBe(0);
    for (const step of [30, 60, 90]) {
      expect(create.stderr()).toContain(`${step}%, step ${step} (attempt 1 of 3)`);
    }
    const ended = JSON.parse(create.stdout().trim().split("\n").at(-1) as string) as { state: string; result: unknown };
    expect(ended).toMatchObject({ state: "JOB_STATE_COMPLETED", result: { got: [1, 2] } });
  });

  it("fails the job with the end of the command's stderr when it exits non-zero", async () => {
    await startWorker("fails", [FAILING_WORKER]);
    const create = cli(["create", "--kind", "fails", "--wait"], server.url);
    expect(await create.exited).toBe(1);
    expect(create.stderr()).toMatch(/ended in ERROR: .*exited with status 3: starting could not open the file/);
  });

  it("on SIGTERM claims no more and lets the running command finish, then exits 0", async () => {
    const worker = await startWorker("graceful", [PROGRESS_WORKER], ["--concurrency", "2"]);
    const { job } = await rawClient(server.url).createJob({ kind: "graceful" });
    await waitUntil(async () => (await rawClient(server.url).getStatus({ jobId: job!.id })).job!.attempt === 1, {
      what: "the worker to start the job",
    });
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    expect((await rawClient(server.url).getStatus({ jobId: job!.id })).job?.state).toBe(JobState.COMPLETED);
    // It claims nothing after it was told to stop.
    const later = (await rawClient(server.url).createJob({ kind: "graceful" })).job!;
    expect(await metricValue(server.url, "held_claims")).toBe(0);
    expect((await rawClient(server.url).getStatus({ jobId: later.id })).job?.attempt).toBe(0);
  });

  it("says on stderr that it keeps trying while the server cannot be reached, and stops on SIGTERM", async () => {
    const unreachable = cli(["work", "--kind", "x", "--", "cat"], `http://127.0.0.1:${await closedPort()}`);
    workers.push(unreachable);
    await waitUntil(() => /jobs-cli: retrying ClaimJob after NetworkError/.test(unreachable.stderr()), {
      what: () => `a warning; it said: ${unreachable.stderr()}`,
    });
    unreachable.child.kill("SIGTERM");
    expect(await unreachable.exited).toBe(0);
  });

  it("refuses bad usage with exit status 2: neither or both of --duration and --kind, --error with --kind, bad JSON, no --kind", async () => {
    for (const args of [
      ["create"],
      ["create", "--duration", "1s", "--kind", "x"],
      ["create", "--kind", "x", "--error"],
      ["create", "--duration", "1s", "--input", "1"],
      ["create", "--kind", "x", "--input", "{nope"],
      ["work", "--", "cat"],
      ["work", "--kind", "x"],
    ]) {
      const run = cli(args, server.url);
      expect(await run.exited, args.join(" ")).toBe(2);
      expect(run.stderr(), args.join(" ")).toMatch(/^jobs-cli: /m);
    }
  });
});
