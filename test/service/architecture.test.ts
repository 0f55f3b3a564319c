import { describe, expect, it } from "vitest";
import { findCycle, importsOf, tsFiles } from "../support/import-graph.js";

// The folders of server/ and what each may import, as server/README.md has them.

type Folder =
  | "top"
  | "service"
  | "waits"
  | "work"
  | "policy"
  | "stores"
  | "queues"
  | "transport"
  | "fast-path"
  | "grpc"
  | "metrics";

const allowed: Record<Folder, readonly Folder[]> = {
  top: ["top", "service", "waits", "work", "policy", "stores", "queues", "transport", "fast-path", "grpc", "metrics"],
  service: ["service", "waits", "stores", "queues", "policy", "top"],
  waits: ["waits", "stores", "top"],
  work: ["work", "service", "waits", "stores", "queues", "policy", "top"],
  policy: ["policy"],
  stores: ["stores", "queues", "policy", "top"],
  queues: ["queues", "top"],
  transport: ["transport"],
  "fast-path": ["fast-path", "service", "waits", "policy", "transport"],
  grpc: ["grpc"],
  metrics: ["metrics"],
};

/** The folder of a server/ file, or undefined for a file outside server/. */
function folderOf(file: string): Folder | undefined {
  const parts = file.split("/");
  if (parts[0] !== "server") {
    return undefined;
  }
  return (parts.length === 2 ? "top" : parts[1]) as Folder;
}

const serverFiles = tsFiles("server").filter((file) => !file.endsWith(".spec.ts"));

describe("the layout of server/", () => {
  it("has only the folders server/README.md describes, none with more than 15 files", () => {
    const counts = new Map<string, number>();
    for (const file of tsFiles("server")) {
      const folder = folderOf(file) as string;
      expect(Object.keys(allowed)).toContain(folder);
      counts.set(folder, (counts.get(folder) ?? 0) + 1);
    }
    for (const [folder, count] of counts) {
      expect(count, folder).toBeLessThanOrEqual(15);
    }
  });

  it("groups the tests, the client and the CLI likewise: no folder holds more than 15 files", () => {
    const counts = new Map<string, number>();
    for (const file of [...tsFiles("test"), ...tsFiles("client"), ...tsFiles("cli")].filter((f) => !f.includes("/dist/"))) {
      const folder = file.slice(0, file.lastIndexOf("/"));
      counts.set(folder, (counts.get(folder) ?? 0) + 1);
    }
    for (const [folder, count] of counts) {
      expect(count, folder).toBeLessThanOrEqual(15);
    }
  });

  it("keeps each folder's imports to the folders it may use", () => {
    const broken: string[] = [];
    for (const file of serverFiles) {
      const from = folderOf(file) as Folder;
      for (const target of importsOf(file).local) {
        const to = folderOf(target);
        if (to === undefined) {
          if (!target.startsWith("gen/")) {
            broken.push(`${file} imports ${target}, outside server/ and gen/`);
          }
          continue;
        }
        if (!allowed[from].includes(to)) {
          broken.push(`${file} (${from}) imports ${target} (${to})`);
        }
        if (to === "top" && from !== "top" && /^server\/(app|main)\.ts$/.test(target)) {
          broken.push(`${file} imports ${target}: only the wiring may`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("keeps gRPC health and reflection generic: nothing of jobs", () => {
    for (const file of serverFiles.filter((f) => folderOf(f) === "grpc")) {
      expect(
        importsOf(file).local.filter((target) => target.startsWith("gen/jobs/")),
        file,
      ).toEqual([]);
    }
  });

  it("has no import circle", () => {
    expect(findCycle(serverFiles)).toBeUndefined();
  });
});
