import { type Figure, ratioOf, type Spread } from "./figure.js";
import { formatNumber } from "./report-table.js";

const WIDTH = 1000;
const LABEL = 470;
const PLOT = WIDTH - LABEL - 90;
const ROW = 20;
const GOOD = "#2e7d32";
const BAD = "#ef6c00";

/**
 * A bar chart of the run: the ratios ours / peer (a line at 1; green where ours is better), and
 * the latency spreads on a log scale (p50 dark, p99 light, max as a tick).
 */
export function renderChart(figures: readonly Figure[], title: string): string {
  const ratios = figures.flatMap((figure) => {
    const ratio = ratioOf(figure);
    return ratio === undefined ? [] : [{ figure, ratio }];
  });
  const spreads = figures.filter((figure): figure is Figure & { ours: Spread } => typeof figure.ours !== "number");
  const parts: string[] = [text(10, 24, title, 16, "bold")];
  let y = 50;

  parts.push(
    text(
      10,
      y,
      "ours / peer (same run, medians of alternating rounds); throughput: higher is better, the rest: lower",
      13,
      "bold",
    ),
  );
  y += 12;
  const maxRatio = Math.max(2, ...ratios.map(({ ratio }) => ratio * 1.1));
  const xRatio = (value: number) => LABEL + (value / maxRatio) * PLOT;
  // The line at 1 goes first, under the bars' labels.
  const ratioBottom = y + ratios.length * ROW;
  parts.push(`<line x1="${xRatio(1)}" y1="${y}" x2="${xRatio(1)}" y2="${ratioBottom}" stroke="#000" stroke-dasharray="4 3"/>`);
  for (const { figure, ratio } of ratios) {
    const better = figure.higherIsBetter === true ? ratio >= 1 : ratio <= 1;
    parts.push(text(LABEL - 8, y + 14, `${figure.name} (${figure.unit})`, 12, "normal", "end"));
    parts.push(
      `<rect x="${LABEL}" y="${y + 4}" width="${(xRatio(ratio) - LABEL).toFixed(1)}" height="${ROW - 8}" fill="${better ? GOOD : BAD}"/>`,
    );
    parts.push(text(Math.max(xRatio(ratio), xRatio(1)) + 4, y + 14, `${ratio.toFixed(2)}  vs ${figure.peer?.name ?? ""}`, 11));
    y += ROW;
  }
  parts.push(text(xRatio(1), y + 12, "1.0", 11, "normal", "middle"));
  y += 40;

  parts.push(text(10, y, "latencies in ms, log scale: p50 (dark), p99 (light), max (tick)", 13, "bold"));
  y += 12;
  const maxMs = Math.max(1, ...spreads.map((figure) => figure.ours.max).filter(Number.isFinite));
  const decades = { low: -1, high: Math.ceil(Math.log10(maxMs)) };
  const xMs = (value: number) =>
    LABEL + ((Math.log10(Math.max(value, 10 ** decades.low)) - decades.low) / (decades.high - decades.low)) * PLOT;
  const msTop = y;
  for (const figure of spreads) {
    const { p50, p99, max } = figure.ours;
    parts.push(text(LABEL - 8, y + 14, figure.name, 12, "normal", "end"));
    parts.push(`<rect x="${LABEL}" y="${y + 4}" width="${(xMs(p99) - LABEL).toFixed(1)}" height="${ROW - 8}" fill="#90caf9"/>`);
    parts.push(`<rect x="${LABEL}" y="${y + 4}" width="${(xMs(p50) - LABEL).toFixed(1)}" height="${ROW - 8}" fill="#1565c0"/>`);
    parts.push(`<line x1="${xMs(max).toFixed(1)}" y1="${y + 2}" x2="${xMs(max).toFixed(1)}" y2="${y + ROW - 2}" stroke="#000"/>`);
    parts.push(text(xMs(max) + 4, y + 14, `${formatNumber(p50)} / ${formatNumber(p99)} / ${formatNumber(max)}`, 11));
    y += ROW;
  }
  for (let decade = decades.low; decade <= decades.high; decade++) {
    const x = xMs(10 ** decade);
    parts.push(`<line x1="${x}" y1="${msTop}" x2="${x}" y2="${y}" stroke="#bbb" stroke-width="0.5"/>`);
    parts.push(text(x, y + 12, formatNumber(10 ** decade), 11, "normal", "middle"));
  }
  y += 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

function text(x: number, y: number, content: string, size: number, weight = "normal", anchor = "start"): string {
  const escaped = content.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<text x="${x.toFixed(1)}" y="${y}" font-size="${size}" font-weight="${weight}" text-anchor="${anchor}">${escaped}</text>`;
}
