import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// `jobs-cli --version` and `--help` answer fast because they leave the client library unloaded
// (issue 11, cli/program.ts). Shown on the compiled bin (`npm test` builds it) by a
// module.register hook that writes down every module URL the process resolves.

// The bin as npx runs it (jobs/bin/jobs-cli.js), which starts the compiled CLI.
const CLI_BIN = fileURLToPath(new URL("../../jobs/bin/jobs-cli.js", import.meta.url));
const PROGRAM = new URL("../../jobs/dist/cli/program.js", import.meta.url).href;

// What --version and --help must not load: the client library, what it is built on, the generated
// code and the progress bar.
const heavy = /\/node_modules\/(@bufbuild|@connectrpc|cli-progress)\/|\/dist\/(client|gen)\//;

// The hooks run on a thread of their own: each URL is appended to the file before the import goes
// on, so none is lost when the process exits.
const hooks = `
import { appendFileSync } from "node:fs";
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(file, resolved.url + "\\n");
  return resolved;
}`;

function dataUrl(source: string): string {
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

/** Runs `node jobs/bin/jobs-cli.js ...args` to its end: its exit status and every module URL it resolved. */
async function modulesResolvedBy(args: readonly string[]): Promise<{ code: number | null; urls: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "jobs-cli-modules-"));
  try {
    const file = join(dir, "resolved.txt");
    const register = `import { register } from "node:module";
      register(${JSON.stringify(dataUrl(hooks))}, { data: { file: ${JSON.stringify(file)} } });`;
    const child = spawn(process.execPath, ["--import", dataUrl(register), CLI_BIN, ...args], { stdio: "ignore" });
    const [code] = (await once(child, "close")) as [number | null];
    return {
      code,
      urls: readFileSync(file, "utf8")
        .split("\n")
        .filter((url) => url !== ""),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the jobs-cli command's startup", () => {
  it("answers --version and --help without loading the client library, which a command loads when it runs", async () => {
    const [version, help, list] = await Promise.all([
      modulesResolvedBy(["--version"]),
      modulesResolvedBy(["--help"]),
      // fetch refuses port 1 without connecting: the action runs, loads the client and fails (exit 4).
      modulesResolvedBy(["--url", "http://127.0.0.1:1", "--retries", "0", "list"]),
    ]);
    for (const run of [version, help]) {
      expect(run.code).toBe(0);
      // The hook saw the CLI's own modules, so what it did not see was not loaded.
      expect(run.urls).toContain(PROGRAM);
      expect(run.urls.filter((url) => heavy.test(url))).toEqual([]);
    }
    expect(list.code).toBe(4);
    expect(list.urls.filter((url) => heavy.test(url))).toEqual(
      expect.arrayContaining([expect.stringContaining("/node_modules/@connectrpc/connect/")]),
    );
  });
});
