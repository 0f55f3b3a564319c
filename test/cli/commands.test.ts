import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageVersion } from "../../cli/package-version.js";
import { JOB_STATUS } from "../../client/index.js";
import packageJson from "../../jobs/package.json" with { type: "json" };
import { SIMULATED_ERROR_MESSAGE } from "../../server/stores/job-runner.js";
import { clientFor, closedPort, type RunningServer, startServer } from "../support/start-server.js";

// The `jobs-cli` command, the compiled main its bin starts (`node jobs/dist/cli/main.js ...`;
// `npm test` builds it first), in a child process against a real server in this process. Its
// stdout and stderr are pipes, so progress is plain lines.

const CLI_MAIN = fileURLToPath(new URL("../../jobs/dist/cli/main.js", import.meta.url));

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
  /** Killed by runJobs for running longer than its `killAfterMs`. */
  killed: boolean;
}

interface RunOptions {
  /** Kill the command if it is still running this long after it started, in ms. @default never */
  killAfterMs?: number;
}

/**
 * Runs `node jobs/dist/cli/main.js ...args` to its end, with JOBS_URL and JOBS_API_KEY from `env` only;
 * `onStdout` sees the output as it comes.
 */
function runJobs(
  args: readonly string[],
  env: Record<string, string> = {},
  onStdout: (chunk: string) => void = () => {},
  options: RunOptions = {},
): Promise<CliRun> {
  const { JOBS_URL: _url, JOBS_API_KEY: _key, ...inherited } = process.env;
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    onStdout(chunk.toString());
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  let killed = false;
  const killer =
    options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => {
          killed = true;
          child.kill("SIGKILL");
        }, options.killAfterMs);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, elapsedMs: Date.now() - started, killed });
    });
  });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe("the jobs-cli command", () => {
  let server: RunningServer;
  let jobs: (...args: string[]) => Promise<CliRun>;
  beforeAll(async () => {
    server = await startServer();
    jobs = (...args) => runJobs(["--url", server.url, ...args]);
  });
  afterAll(async () => {
    await server.close();
  });

  it("creates a job, waits for it and exits 0 with the completed job", async () => {
    const run = await jobs("create", "--duration", "1s", "--wait");
    expect(run.code).toBe(0);
    const [created, ended] = lines(run.stdout);
    expect(created).toMatch(/^\S{22}\s+PENDING\s+1s\s+v1\b/);
    expect(ended).toMatch(/^\S{22}\s+COMPLETED\s+1s\s+v2\b/);
    expect(ended?.slice(0, 22)).toBe(created?.slice(0, 22));
    expect(run.stderr).toMatch(/^waiting for \S{22}: PENDING, ends in /);
  });

  it("exits 1 and prints the job's error message once, in its error line, when the job ends in ERROR", async () => {
    const run = await jobs("create", "--duration", "200ms", "--error", "--wait");
    expect(run.code).toBe(1);
    expect(lines(run.stdout).at(-1)).toMatch(/\sERROR\s/);
    const errors = lines(run.stderr).filter((line) => line.startsWith("jobs-cli: "));
    expect(errors).toEqual([expect.stringContaining(`ended in ERROR: ${SIMULATED_ERROR_MESSAGE}`)]);
    expect(occurrences(run.stdout + run.stderr, SIMULATED_ERROR_MESSAGE)).toBe(1);
  });

  it("prints an ERROR job's message once from status, wait and watch too, and on its line in a list", async () => {
    const { client } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 0, shouldError: true });
    await client.awaitCompletion(job.id, { timeoutMs: 5_000 });
    const runs = await Promise.all([jobs("status", job.id), jobs("wait", job.id), jobs("watch", job.id)]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(occurrences(run.stdout + run.stderr, SIMULATED_ERROR_MESSAGE)).toBe(1);
    }
    const list = await jobs("list", "--state", "error", "--page-size", "1");
    const [line, ...more] = lines(list.stdout);
    expect(more).toEqual([]);
    expect(line?.startsWith(`${job.id} `) && line.endsWith(`: ${SIMULATED_ERROR_MESSAGE}`)).toBe(true);
  });

  it("exits 1 with one line for a job id the server does not know (NOT_FOUND)", async () => {
    const run = await jobs("status", "AAAAAAAAAAAAAAAAAAAAAA");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe('jobs-cli: job "AAAAAAAAAAAAAAAAAAAAAA" not found\n');
  });

  it("reads a job id that starts with a dash as the id, not as an option", async () => {
    const run = await jobs("status", "-AAAAAAAAAAAAAAAAAAAAA");
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('jobs-cli: job "-AAAAAAAAAAAAAAAAAAAAA" not found\n');
  });

  it("exits 2 with one line for a malformed job id (INVALID_ARGUMENT)", async () => {
    const run = await jobs("status", "nope");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^jobs-cli: invalid argument: job_id is malformed[^\n]*\n$/);
  });

  it("exits 3 when --timeout runs out before the job ends", async () => {
    const { client } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 60_000 });
    const run = await jobs("wait", job.id, "--timeout", "300ms");
    expect(run.code).toBe(3);
    expect(run.stdout).toBe("");
    expect(lines(run.stderr).at(-1)).toBe(`jobs-cli: timed out: job ${job.id} is still PENDING`);
    // Well before the job's end (60 s): the command's start on a busy machine included.
    expect(run.elapsedMs).toBeLessThan(20_000);
  });

  it("exits 4 with one line when nothing listens at --url, once its retries are used up", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await runJobs(["--url", url, "list"]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(new RegExp(`^jobs-cli: could not reach the server at ${url}: .*ECONNREFUSED.*\\n$`));
    // Five retries back off by at most 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s.
    expect(run.elapsedMs).toBeLessThan(20_000);
  });

  it("exits 4 saying in plain words why a port fetch refuses, or a URL with TLS where there is none, cannot work", async () => {
    // 6000 is among the ports the Fetch standard blocks: refused unsent, and never retried.
    const blocked = await runJobs(["--url", "http://127.0.0.1:6000", "list"]);
    expect(blocked).toMatchObject({
      code: 4,
      stderr:
        "jobs-cli: could not reach the server at http://127.0.0.1:6000: fetch refuses this port, one the Fetch standard blocks: serve on another port\n",
    });
    const https = server.url.replace("http:", "https:");
    const tls = await runJobs(["--url", https, "--retries", "0", "list"]);
    expect(tls).toMatchObject({
      code: 4,
      stderr: `jobs-cli: could not reach the server at ${https}: no TLS there: is it an http:// server?\n`,
    });
  });

  it("exits soon after the job ends, however far off its --timeout is, in every way of waiting", async () => {
    const { client } = clientFor(server.url);
    const commands = [["wait", "--mode", "long"], ["wait", "--mode", "short"], ["wait", "--mode", "stream"], ["watch"]];
    const runs = await Promise.all(
      commands.map(async ([command, ...options]) => {
        const job = await client.createJob({ processingDurationMs: 1_000 });
        const args = ["--url", server.url, command as string, job.id, ...options, "--timeout", "10m"];
        return runJobs(args, {}, () => {}, { killAfterMs: 30_000 });
      }),
    );
    for (const run of runs) {
      expect(run).toMatchObject({ killed: false, code: 0 });
      expect(lines(run.stdout).at(-1)).toMatch(/\sCOMPLETED\s/);
    }
  }, 60_000);

  it("waits for three jobs, one failing: a line for each as it ends, the failure's message once on stderr, exit 1", async () => {
    const { client } = clientFor(server.url);
    // Long enough to outlast the command's start, even on a busy machine; they end b, c, a.
    const [a, b, c] = await Promise.all([
      client.createJob({ processingDurationMs: 4_000 }),
      client.createJob({ processingDurationMs: 2_000, shouldError: true }),
      client.createJob({ processingDurationMs: 3_000 }),
    ]);
    const run = await jobs("wait", a!.id, b!.id, c!.id);
    expect(run.code).toBe(1);
    expect(lines(run.stdout).map((line) => line.split(/\s+/).slice(0, 2))).toEqual([
      [b!.id, "ERROR"],
      [c!.id, "COMPLETED"],
      [a!.id, "COMPLETED"],
    ]);
    const errors = lines(run.stderr).filter((line) => line.startsWith("jobs-cli: "));
    expect(errors).toEqual([`jobs-cli: job ${b!.id} ended in ERROR: ${SIMULATED_ERROR_MESSAGE}`]);
    expect(occurrences(run.stdout + run.stderr, SIMULATED_ERROR_MESSAGE)).toBe(1);
    // Not a terminal: a plain line for each pending job, as for one.
    for (const job of [a, b, c]) {
      expect(run.stderr).toContain(`waiting for ${job!.id}: PENDING, ends in `);
    }
  });

  it("exits 3 when --timeout runs out before every job has ended, naming those still pending", async () => {
    const { client } = clientFor(server.url);
    const [done, slow, slower] = await Promise.all([
      client.createJob({ processingDurationMs: 0 }),
      client.createJob({ processingDurationMs: 60_000 }),
      client.createJob({ processingDurationMs: 60_000 }),
    ]);
    await client.awaitCompletion(done!.id, { timeoutMs: 5_000 });
    const run = await jobs("wait", done!.id, slow!.id, slower!.id, "--timeout", "1s");
    expect(run.code).toBe(3);
    expect(lines(run.stdout)).toEqual([expect.stringMatching(new RegExp(`^${done!.id}\\s+COMPLETED\\s`))]);
    expect(lines(run.stderr).at(-1)).toBe(`jobs-cli: timed out: 2 of 3 jobs still PENDING: ${slow!.id}, ${slower!.id}`);
    expect(run.elapsedMs).toBeLessThan(20_000);
  });

  it("prints each job as proto JSON as it ends with --json, and exits 0 when every job completed", async () => {
    const { client } = clientFor(server.url);
    const created = await Promise.all([300, 600].map((ms) => client.createJob({ processingDurationMs: ms })));
    const run = await jobs("--json", "wait", ...created.map((job) => job.id));
    expect(run.code).toBe(0);
    const printed = lines(run.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(printed.map((job) => [job.id, job.state])).toEqual(created.map((job) => [job.id, "JOB_STATE_COMPLETED"]));
  });

  it("exits 1 with one line naming the ids not found among several", async () => {
    const { client } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 60_000 });
    const run = await jobs("wait", job.id, "AAAAAAAAAAAAAAAAAAAAAA", "-AAAAAAAAAAAAAAAAAAAAA");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe('jobs-cli: jobs "AAAAAAAAAAAAAAAAAAAAAA", "-AAAAAAAAAAAAAAAAAAAAA" not found\n');
  });

  it("takes the server from JOBS_URL", async () => {
    const run = await runJobs(["list", "--page-size", "1"], { JOBS_URL: server.url });
    expect(run.code).toBe(0);
  });

  it("prints each job as proto JSON, one object per line, with --json", async () => {
    const run = await jobs("--json", "create", "--duration", "200ms", "--wait");
    expect(run.code).toBe(0);
    const [created, ended] = lines(run.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(created).toMatchObject({ state: "JOB_STATE_PENDING", processingDuration: "0.200s", version: "1" });
    expect(ended).toMatchObject({ id: created?.id, state: "JOB_STATE_COMPLETED", version: "2" });
    expect(ended?.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("lists the jobs created, newest first", async () => {
    const { client } = clientFor(server.url);
    const older = await client.createJob({ processingDurationMs: 60_000 });
    const newer = await client.createJob({ processingDurationMs: 60_000 });
    const run = await jobs("list", "--state", "pending", "--page-size", "2");
    expect(run.code).toBe(0);
    expect(lines(run.stdout).map((line) => line.slice(0, 22))).toEqual([newer.id, older.id]);
  });

  it("cancels a pending job and prints it CANCELLED; cancelling it again exits 1", async () => {
    const { client } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 60_000 });
    const run = await jobs("cancel", job.id);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${job.id}\\s+CANCELLED\\s`));
    expect((await client.getStatus(job.id)).job.state).toBe(JOB_STATUS.CANCELLED);

    const again = await jobs("cancel", job.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^jobs-cli: failed precondition: job \S+ has ended already[^\n]*\n$/);
  });

  it("watches a job: a PENDING line as soon as it starts, then a COMPLETED line when the job ends", async () => {
    const { client } = clientFor(server.url);
    // Long enough to outlast the command's start, even on a busy machine.
    const job = await client.createJob({ processingDurationMs: 4_000 });
    let firstLineAt: number | undefined;
    const run = await runJobs(["--url", server.url, "watch", job.id], {}, () => (firstLineAt ??= Date.now()));
    expect(run.code).toBe(0);
    expect(lines(run.stdout).map((line) => line.split(/\s+/)[1])).toEqual(["PENDING", "COMPLETED"]);
    expect(firstLineAt).toBeLessThan(timestampMs(job.estimatedCompletionTime!));
  });

  it("waits with status --wait up to that long for a change, then prints the job unchanged", async () => {
    const { client } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 60_000 });
    const started = Date.now();
    const run = await jobs("status", job.id, "--wait", "500ms");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${job.id}\\s+PENDING\\s`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it("answers status --wait at once for a job that has ended, with its state's exit status", async () => {
    const { client } = clientFor(server.url);
    const job = await client.createJob({ processingDurationMs: 0, shouldError: true });
    await client.awaitCompletion(job.id, { timeoutMs: 5_000 });
    const run = await jobs("status", job.id, "--wait", "20s");
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\sERROR\s/);
    expect(run.elapsedMs).toBeLessThan(10_000);
  });

  it("exits 2 on usage errors: a bad duration, an unknown mode, a missing option, an unknown command", async () => {
    const runs = await Promise.all([
      jobs("create", "--duration", "5"),
      jobs("wait", "AAAAAAAAAAAAAAAAAAAAAA", "--mode", "fast"),
      jobs("create"),
      jobs("frobnicate"),
    ]);
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2]);
    for (const run of runs) {
      expect(lines(run.stderr)).toEqual([expect.stringMatching(/^jobs-cli: /)]);
    }
    expect(runs[0]?.stderr).toContain('"5" is not a duration');
  });

  it("exits 2 naming an unknown option, also one shaped like a job id, before or after the command", async () => {
    const runs = await Promise.all([
      jobs("list", "--frobnicate"),
      jobs("--frobnicate", "list"),
      jobs("wait", "AAAAAAAAAAAAAAAAAAAAAA", "--frobnicate"),
      // 22 characters, as a job id is: still an option where no id is taken.
      jobs("list", "--page-size-per-page-x"),
    ]);
    expect(runs.map((run) => [run.code, run.stderr])).toEqual([
      [2, "jobs-cli: unknown option '--frobnicate'\n"],
      [2, "jobs-cli: unknown option '--frobnicate'\n"],
      [2, "jobs-cli: unknown option '--frobnicate'\n"],
      [2, "jobs-cli: unknown option '--page-size-per-page-x'\n"],
    ]);
  });

  it("prints its help, with the exit statuses, and exits 0", async () => {
    const run = await jobs("--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Exit status:");
  });

  it("calls itself jobs-cli, never jobs (a shell built-in), in its usage, help and examples", async () => {
    const runs = await Promise.all([jobs("--help"), jobs("wait", "--help"), jobs("wait")]);
    const [help, waitHelp, usage] = runs;
    expect(help?.stdout).toMatch(/^Usage: jobs-cli \[options\] \[command\]$/m);
    expect(help?.stdout).toMatch(/^ {2}jobs-cli wait <id> --mode stream --timeout 1m$/m);
    expect(waitHelp?.stdout).toMatch(/^Usage: jobs-cli wait \[options\] <id\.\.\.>$/m);
    expect(usage?.stderr).toBe("jobs-cli: missing required argument 'id'\n");
    for (const run of runs) {
      expect(run.stdout + run.stderr).not.toMatch(/(^|\s)jobs(:|\s+(\[options\]|create|status|wait|watch|list|cancel)\b)/m);
    }
  });

  it("is installed as jobs-cli, never jobs: jobs is a shell built-in that would shadow it", () => {
    expect(packageJson.bin).toEqual({ "jobs-server": "bin/jobs-server.js", "jobs-cli": "bin/jobs-cli.js" });
  });

  it("prints the package's version with --version and exits 0", async () => {
    const run = await jobs("--version");
    expect(run).toMatchObject({ code: 0, stdout: `${packageJson.version}\n`, stderr: "" });
  });

  it("finds the jobs package's version from source too, where no package.json above cli/ is the package's", () => {
    expect(packageVersion()).toBe(packageJson.version);
  });
});

describe("the jobs-cli command against a server with API keys", () => {
  const key = "cli-key-0123456789";
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ apiKeys: [key] });
  });
  afterAll(async () => {
    await server.close();
  });

  it("exits 4 with one line when no key is given (UNAUTHENTICATED)", async () => {
    const run = await runJobs(["--url", server.url, "list"]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^jobs-cli: unauthenticated: .*--api-key[^\n]*\n$/);
  });

  it("sends the key from --api-key or JOBS_API_KEY", async () => {
    const withOption = await runJobs(["--url", server.url, "--api-key", key, "list"]);
    const withEnv = await runJobs(["--url", server.url, "list"], { JOBS_API_KEY: key });
    expect([withOption.code, withEnv.code]).toEqual([0, 0]);
  });
});
