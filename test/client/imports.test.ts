import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// The client library's imports: no module of client/ reaches itself again through others (type-only
// imports count: they tie modules together all the same), and the core imports nothing of Node.

const clientDir = fileURLToPath(new URL("../../client/", import.meta.url));

/** Every specifier `source` imports or re-exports, `import type` and `import()` included. */
function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

/** The library's modules (not its specs, nor its build in dist/), as paths relative to client/. */
function libraryFiles(dir = clientDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === "dist" || entry.name === "node_modules") {
        return [];
      }
      return libraryFiles(path);
    }
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".spec.ts") ? [relative(clientDir, path)] : [];
  });
}

/** Each module of client/ with the modules of client/ it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of libraryFiles()) {
    const targets = importsOf(readFileSync(join(clientDir, file), "utf8"))
      .filter((specifier) => specifier.startsWith("."))
      .map((specifier) => relative(clientDir, resolve(clientDir, dirname(file), specifier)).replace(/\.js$/, ".ts"))
      .filter((target) => !target.startsWith(".."));
    graph.set(file, targets);
  }
  return graph;
}

/** A cycle of `graph` as the path around it (first module repeated at the end), or undefined. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    const at = path.indexOf(node);
    if (at >= 0) {
      return [...path.slice(at), node];
    }
    if (done.has(node)) {
      return undefined;
    }
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) {
        return cycle;
      }
    }
    path.pop();
    done.add(node);
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== undefined) {
      return cycle;
    }
  }
  return undefined;
}

const nodeBuiltins = new Set(builtinModules);

describe("the client library's imports", () => {
  it("are read with type-only imports, re-exports and dynamic imports included", () => {
    const source = `import type { A } from "./a.js";\nexport type { B } from "./b.js";\nexport { C } from "./c.js";\nconst d = import("./d.js");`;
    expect(importsOf(source)).toEqual(["./a.js", "./b.js", "./c.js", "./d.js"]);
  });

  it("are checked for cycles by a check that finds one", () => {
    const cyclic = { a: ["b"], b: ["c"], c: ["a"] };
    expect(findCycle(new Map(Object.entries(cyclic)))).toEqual(["a", "b", "c", "a"]);
    const acyclic = { a: ["b", "c"], b: ["c"], c: [] };
    expect(findCycle(new Map(Object.entries(acyclic)))).toBeUndefined();
  });

  it("form no cycle", () => {
    const graph = importGraph();
    expect(graph.get("job-client.ts")).toContain("waits/poll-changes.ts");
    expect(findCycle(graph)).toBeUndefined();
  });

  it("include no Node module: the core runs unchanged in browsers", () => {
    const found = libraryFiles().flatMap((file) =>
      importsOf(readFileSync(join(clientDir, file), "utf8"))
        .filter((specifier) => specifier.startsWith("node:") || nodeBuiltins.has(specifier.split("/")[0] as string))
        .map((specifier) => `${file}: ${specifier}`),
    );
    expect(found).toEqual([]);
  });
});
