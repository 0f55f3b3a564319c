import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./child-process.js";
import type { Figure } from "./figure.js";
import type { MachineInfo } from "./machine-info.js";
import { renderChart } from "./report-svg.js";
import { formatTable } from "./report-table.js";

/** Everything one run found: written whole as JSON. */
export interface BenchReport {
  machine: MachineInfo;
  mode: "quick" | "full";
  options: unknown;
  figures: Figure[];
  /** Every raw figure, by section: each round, each job, each memory reading. */
  raw: Record<string, unknown>;
  notes: string[];
  durationS: number;
}

/** Prints the table and notes; writes bench/results/<date>-<mode>.json and .svg. Returns their paths. */
export function writeReport(report: BenchReport): { json: string; svg: string } {
  const { machine } = report;
  console.log(
    `\njobs benchmark, ${report.mode} mode: ${machine.cpu} x${machine.cores}, node ${machine.node}, commit ${machine.commit}, ${machine.date}\n`,
  );
  console.log(formatTable(report.figures));
  if (report.notes.length > 0) {
    console.log(`\nnotes:\n${report.notes.map((note) => `- ${note}`).join("\n")}`);
  }
  const dir = path.join(REPO_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${machine.date.replace(/[:.]/g, "-")}-${report.mode}`);
  const json = `${base}.json`;
  const svg = `${base}.svg`;
  writeFileSync(
    json,
    JSON.stringify(report, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value), 2),
  );
  const title = `jobs benchmark (${report.mode}), ${machine.cpu} x${machine.cores}, node ${machine.node}, ${machine.commit}`;
  writeFileSync(svg, renderChart(report.figures, title));
  console.log(
    `\nwrote ${path.relative(process.cwd(), json)} and ${path.relative(process.cwd(), svg)} (${report.durationS.toFixed(0)} s)`,
  );
  return { json, svg };
}
