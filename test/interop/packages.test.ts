import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServerProcess, spawnListening } from "../support/spawn-server.js";

// The two packages as another project gets them: `npm pack` of jobs/ (jobs: the server, the CLI,
// the page) and of client/ (jobs-client), both installed from their tarballs into an empty project
// in a temporary folder, and used from there with nothing of this repository but its tsc, esbuild,
// publint and attw. npm resolves every dependency from its cache (npm ci filled it), so no network
// is needed. The tarballs are packed from jobs/dist and client/dist as `npm test` built them
// (pretest): packing runs no scripts, so no rebuild empties a dist/ under the tests that run beside
// this one. Then the same bins as this repository's own checkout runs them.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const execFileAsync = promisify(execFile);

/** This process's environment without npm's (which would point a child npm at this repository). */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && key !== "NODE_OPTIONS") {
      env[key] = value;
    }
  }
  // The bins start with `#!/usr/bin/env node`: let that be this node.
  env.PATH = [dirname(process.execPath), process.env.PATH].join(delimiter);
  return { ...env, ...extra };
}

interface Packed {
  name: string;
  filename: string;
  files: Array<{ path: string }>;
}

let temp: string;
let project: string;
let packed: Map<string, Packed>;
let server: ServerProcess | undefined;
let serverUrl: string;

/** Runs `file` to its end and resolves with its stdout; rejects with all it printed when it fails. */
async function run(file: string, args: readonly string[], cwd = project, env: Record<string, string> = {}): Promise<string> {
  try {
    return (await execFileAsync(file, args, { cwd, env: childEnv(env), maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(" ")} failed: ${String(error)}\n${stdout}${stderr}`);
  }
}

/** Runs a script with plain node in the project: no tsx, no loader. */
function node(script: string, args: readonly string[] = []): Promise<string> {
  return run(process.execPath, [script, ...args]);
}

describe("the packages, installed from their tarballs into an empty project", () => {
  beforeAll(async () => {
    for (const built of [
      "jobs/dist/server/main.js",
      "jobs/dist/cli/main.js",
      "jobs/dist/web/index.html",
      "client/dist/client/index.js",
    ]) {
      if (!existsSync(join(ROOT, built))) {
        throw new Error(`${built} is not built: run \`npm run build && npm run build:client\` (npm test does) first`);
      }
    }
    temp = await mkdtemp(join(tmpdir(), "jobs-packages-"));
    project = join(temp, "project");
    await mkdir(project);
    const pack = await run(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", temp, "--workspace", "client", "--workspace", "jobs"],
      ROOT,
    );
    packed = new Map((JSON.parse(pack) as Packed[]).map((tarball) => [tarball.name, tarball]));
    await writeFile(join(project, "package.json"), `${JSON.stringify({ name: "consumer", private: true, type: "module" })}\n`);
    const tarballs = [...packed.values()].map((tarball) => join(temp, tarball.filename));
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...tarballs]);
    // The installed jobs-server, on a free port.
    server = await spawnListening(join(project, "node_modules/.bin/jobs-server"), [], {
      cwd: project,
      env: childEnv({ PORT: "0", LOG_LEVEL: "info" }),
    });
    serverUrl = server.url;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    if (temp !== undefined) {
      await rm(temp, { recursive: true, force: true });
    }
  });

  it("pack the client as its build, README and package.json only, without the server's generated code", () => {
    const files = (packed.get("jobs-client")?.files ?? []).map((file) => file.path).sort();
    expect(files).toContain("dist/client/index.js");
    expect(files).toContain("dist/client/index.d.ts");
    expect(files).toContain("dist/gen/jobs/v1/job_service_pb.js");
    expect(files.filter((file) => !/^(dist\/.*\.(js|d\.ts)|README\.md|package\.json)$/.test(file))).toEqual([]);
    expect(files.filter((file) => /spec|descriptor_set|^dist\/gen\/grpc\//.test(file))).toEqual([]);
  });

  it("pack the service as what running needs: the bins, compiled JavaScript, the page and the proto files", () => {
    const files = (packed.get("jobs")?.files ?? []).map((file) => file.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "bin/jobs-server.js",
        "bin/jobs-cli.js",
        "dist/server/main.js",
        "dist/cli/main.js",
        "dist/web/index.html",
        "dist/proto/jobs/v1/job_service.proto",
      ]),
    );
    const allowed =
      /^(bin\/[^/]+\.js|dist\/(server|cli|client|gen)\/.*\.js|dist\/web\/[^/]+|dist\/proto\/.*\.proto|README\.md|package\.json)$/;
    expect(files.filter((file) => !allowed.test(file))).toEqual([]);
  });

  it("serve from the installed jobs-server, and complete a job with the client imported by plain Node", async () => {
    const script = join(project, "first-call.mjs");
    await writeFile(
      script,
      [
        `import { JOB_STATUS, JobClient } from "jobs-client";`,
        `const client = new JobClient({ baseUrl: process.argv[2] });`,
        `const job = await client.createJob({ processingDurationMs: 200 });`,
        `const done = await client.awaitCompletion(job.id, { timeoutMs: 20_000 });`,
        `console.log(JSON.stringify({ from: import.meta.resolve("jobs-client"), completed: done.state === JOB_STATUS.COMPLETED }));`,
      ].join("\n"),
    );
    const answer = JSON.parse(await node(script, [serverUrl])) as { from: string; completed: boolean };
    expect(answer.completed).toBe(true);
    expect(answer.from).toMatch(/\/node_modules\/jobs-client\/dist\/client\/index\.js$/);
  });

  it("follow a job to its end with the installed jobs-cli", async () => {
    // The bin itself, as a shell runs it: its shebang starts node.
    const stdout = await run(join(project, "node_modules/.bin/jobs-cli"), [
      "create",
      "--duration",
      "1s",
      "--wait",
      "--url",
      serverUrl,
    ]);
    expect(stdout).toMatch(/^\S+\s+COMPLETED\s/m);
  });

  it("type-check a consumer with moduleResolution nodenext and with bundler, declarations included", async () => {
    // `@ts-expect-error` fails the check if the import were untyped (any) rather than declared.
    const consumer = `import { DeadlineExceededError, JOB_STATUS, type Job, JobClient, type JobClientOptions } from "jobs-client";

const options: JobClientOptions = { baseUrl: "http://127.0.0.1:8000", maxRetries: 2 };
const client = new JobClient(options);

export async function finish(): Promise<string> {
  const job: Job = await client.createJob({ processingDurationMs: 1_000 });
  try {
    const done = await client.awaitCompletion(job.id, { timeoutMs: 10_000, signal: AbortSignal.timeout(20_000) });
    return done.state === JOB_STATUS.COMPLETED ? "completed" : done.errorMessage;
  } catch (error) {
    if (error instanceof DeadlineExceededError) {
      return \`still \${String(error.lastJob?.state)}\`;
    }
    throw error;
  }
}

// @ts-expect-error a job id is a string
void client.getStatus(1);
`;
    await writeFile(join(project, "consumer.ts"), consumer);
    const common = { target: "es2022", strict: true, noEmit: true, skipLibCheck: false };
    const configs = {
      // A Node project: Node's types, and the DOM lib that Connect's declarations name fetch types from.
      "tsconfig.nodenext.json": {
        ...common,
        module: "nodenext",
        moduleResolution: "nodenext",
        lib: ["es2022", "dom"],
        types: ["node"],
        typeRoots: [join(ROOT, "node_modules/@types")],
      },
      // A browser project built by a bundler: no Node types at all.
      "tsconfig.bundler.json": { ...common, module: "esnext", moduleResolution: "bundler", lib: ["es2022", "dom"], types: [] },
    };
    const tsc = join(ROOT, "node_modules/typescript/bin/tsc");
    await Promise.all(
      Object.entries(configs).map(async ([file, compilerOptions]) => {
        await writeFile(join(project, file), JSON.stringify({ compilerOptions, files: ["consumer.ts"] }));
        expect(await node(tsc, ["-p", file]), file).toBe("");
      }),
    );
  });

  it("bundle the client for browsers with nothing of Node in it", async () => {
    await writeFile(
      join(project, "browser.js"),
      `import { JobClient } from "jobs-client";\nglobalThis.client = new JobClient({ baseUrl: location.origin });\n`,
    );
    const result = await build({
      absWorkingDir: project,
      entryPoints: ["browser.js"],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("node_modules/jobs-client/dist/client/index.js");
    const nodeBuiltins = new Set(builtinModules);
    expect(inputs.filter((input) => input.startsWith("node:") || nodeBuiltins.has(input))).toEqual([]);
    const output = result.outputFiles[0]?.text ?? "";
    expect(Object.values(result.metafile.outputs).flatMap((out) => out.imports)).toEqual([]);
    expect(output).not.toMatch(/["'`]node:|\brequire\(/);
  });

  it("pass publint, and attw for ESM-only consumers", async () => {
    const bin = (name: string) => join(ROOT, "node_modules/.bin", name);
    const client = join(temp, packed.get("jobs-client")?.filename as string);
    const service = join(temp, packed.get("jobs")?.filename as string);
    // Each exits non-zero on a problem. attw reads the tarball only: no @types looked up online.
    const [clientLint, serviceLint] = await Promise.all([
      run(bin("publint"), ["run", client, "--strict"]),
      run(bin("publint"), ["run", service, "--strict"]),
      run(bin("attw"), [client, "--profile", "esm-only", "--no-definitely-typed", "--format", "ascii"]),
    ]);
    expect(clientLint).toContain("All good!");
    expect(serviceLint).toContain("All good!");
  });
});

describe("the bins in this repository's checkout", () => {
  let checkout: string;

  beforeAll(async () => {
    checkout = await mkdtemp(join(tmpdir(), "jobs-checkout-bins-"));
  });

  afterAll(async () => {
    await rm(checkout, { recursive: true, force: true });
  });

  it("run through npx as npm ci linked them, without npx installing the repository into its cache", async () => {
    // An empty npm cache of the run's own: had npx taken its slow path (the package it runs in
    // declaring the bin), it would have installed the repository under _npx/ there.
    const cache = join(checkout, "npm-cache");
    const { version } = JSON.parse(await readFile(join(ROOT, "jobs/package.json"), "utf8")) as { version: string };
    const stdout = await run("npx", ["--no-install", "jobs-cli", "--version"], ROOT, {
      npm_config_cache: cache,
      npm_config_update_notifier: "false",
    });
    expect(stdout).toBe(`${version}\n`);
    expect(existsSync(join(cache, "_npx"))).toBe(false);
  });

  it("say how to build them, with exit status 127, when jobs/dist is not built", async () => {
    // The bins as a fresh clone has them after npm ci: bin/ beside a package with no dist/ yet.
    const unbuilt = join(checkout, "unbuilt");
    await cp(join(ROOT, "jobs/bin"), join(unbuilt, "bin"), { recursive: true });
    await cp(join(ROOT, "jobs/package.json"), join(unbuilt, "package.json"));
    for (const [bin, program] of [
      ["jobs-cli", "cli"],
      ["jobs-server", "server"],
    ] as const) {
      const ran = await execFileAsync(process.execPath, [join(unbuilt, "bin", `${bin}.js`), "--version"], {
        env: childEnv(),
      }).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(ran.code, bin).toBe(127);
      expect(ran.stderr, bin).toContain(
        `${bin}: ${join(unbuilt, "dist", program, "main.js")} is not built: run \`npm run build\``,
      );
    }
  });

  it("share one copy of each dependency with the sources: npm nested none under jobs/ or client/", () => {
    // The sources (server/, cli/, client/) resolve their imports from the root node_modules, the
    // builds in jobs/dist and client/dist from their package's own first: a version pinned apart
    // in one package would be nested there, and the tests would no longer run what ships.
    expect(existsSync(join(ROOT, "jobs/node_modules"))).toBe(false);
    expect(existsSync(join(ROOT, "client/node_modules"))).toBe(false);
  });
});
