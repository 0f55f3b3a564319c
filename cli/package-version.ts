import { existsSync, readFileSync } from "node:fs";

/**
 * Where the jobs package's package.json is: in jobs/ beside cli/ when the CLI runs from source, or
 * two folders up from the compiled CLI (jobs/dist/cli/, or dist/cli/ in the installed package).
 * The first never exists beside a compiled CLI, so a package.json above the repository is never read.
 */
const PACKAGE_JSON = [new URL("../jobs/package.json", import.meta.url), new URL("../../package.json", import.meta.url)];

/**
 * The version in the jobs package's package.json, read at run time rather than imported, so that
 * compiling leaves no copy of package.json in dist/.
 */
export function packageVersion(): string {
  const file = PACKAGE_JSON.find((candidate) => existsSync(candidate));
  return file === undefined ? "unknown" : (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}
