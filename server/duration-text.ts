const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const pattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * Parses a duration written for people, such as "500ms", "30s", "1.5m" or "1h", into
 * milliseconds; "0" needs no unit. Returns undefined for anything else (negative values, other
 * numbers without a unit).
 */
export function parseDurationText(text: string): number | undefined {
  if (text.trim() === "0") {
    return 0;
  }
  const match = pattern.exec(text.trim());
  if (match === null) {
    return undefined;
  }
  const [, amount, unit] = match as unknown as [string, string, string];
  return Math.round(Number(amount) * (units[unit] ?? Number.NaN));
}

/** Writes milliseconds the way parseDurationText reads them: "30s", "1h", "250ms". */
export function formatDurationText(ms: number): string {
  for (const unit of ["h", "m", "s"] as const) {
    const size = units[unit] as number;
    if (ms >= size && ms % size === 0) {
      return `${ms / size}${unit}`;
    }
  }
  return `${ms}ms`;
}
