import { existsSync, readFileSync } from "node:fs";

/**
 * The version in the package.json of the package this file belongs to: the nearest one above
 * it, whether it runs from source (cli/), compiled (dist/cli/) or installed. Read at run time
 * rather than imported, so that compiling leaves no copy of package.json in dist/.
 */
export function packageVersion(): string {
  for (let dir = new URL("./", import.meta.url); ; dir = new URL("../", dir)) {
    const file = new URL("package.json", dir);
    if (existsSync(file)) {
      return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
    }
    if (dir.pathname === "/") {
      return "unknown";
    }
  }
}
