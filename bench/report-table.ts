import { type Figure, ratioOf } from "./figure.js";

/** The results as a plain-text table: figure, unit, peer, ours, ratio (ours / peer). */
export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => {
    const ratio = ratioOf(figure);
    return [
      figure.name,
      figure.unit,
      figure.peer === undefined ? "-" : `${formatNumber(figure.peer.value)} (${figure.peer.name})`,
      typeof figure.ours === "number"
        ? formatNumber(figure.ours)
        : `${formatNumber(figure.ours.p50)} / ${formatNumber(figure.ours.p99)} / ${formatNumber(figure.ours.max)}`,
      ratio === undefined ? "" : ratio.toFixed(2),
    ];
  });
  const header = ["figure", "unit", "peer", "ours (or p50 / p99 / max)", "ours/peer"];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i >= 2 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join("  ");
  const out = [line(header), widths.map((width) => "-".repeat(width)).join("  ")];
  let section = "";
  for (const [i, figure] of figures.entries()) {
    if (figure.section !== section) {
      section = figure.section;
      out.push(`[${section}]`);
    }
    out.push(line(rows[i] as string[]));
  }
  return out.join("\n");
}

/** Three significant digits, thousands grouped. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
