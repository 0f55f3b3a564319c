import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const importPattern = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** The .ts files under `folder` (relative to the root), recursively, as root-relative paths. */
export function tsFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
      } else if (entry.name.endsWith(".ts")) {
        out.push(path);
      }
    }
  };
  walk(folder);
  return out.sort();
}

/** What `file` (root-relative) imports: relative imports resolved to root-relative .ts paths, others as written. */
export function importsOf(file: string): { local: string[]; packages: string[] } {
  const source = readFileSync(join(ROOT, file), "utf8");
  const local: string[] = [];
  const packages: string[] = [];
  for (const match of source.matchAll(importPattern)) {
    const specifier = (match[1] ?? match[2]) as string;
    if (specifier.startsWith(".")) {
      local.push(relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, ".ts"));
    } else {
      packages.push(specifier);
    }
  }
  return { local, packages };
}

/** A cycle among `files`' local imports (the files in it, first repeated at the end), or undefined. */
export function findCycle(files: readonly string[]): string[] | undefined {
  const inSet = new Set(files);
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    state.set(file, "open");
    path.push(file);
    for (const next of importsOf(file).local.filter((f) => inSet.has(f))) {
      if (state.get(next) === "open") {
        return [...path.slice(path.indexOf(next)), next];
      }
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found !== undefined) {
          return found;
        }
      }
    }
    path.pop();
    state.set(file, "done");
    return undefined;
  };
  for (const file of files) {
    if (state.get(file) === undefined) {
      const found = visit(file);
      if (found !== undefined) {
        return found;
      }
    }
  }
  return undefined;
}
