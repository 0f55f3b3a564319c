// Durations as people type them on the command line: a number and a unit, "500ms", "5s",
// "1.5m", "1h". The same spelling as the server's settings, parsed here so the CLI stays a client.

const unitMs: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const durationPattern = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)$/;

/**
 * The duration `text` names, in whole ms. Throws RangeError for anything else (a missing unit,
 * a negative number, an unknown unit).
 *
 * @example parseDuration("1.5m") // 90_000
 */
export function parseDuration(text: string): number {
  const match = durationPattern.exec(text.trim());
  const unit = match?.[2];
  if (match?.[1] === undefined || unit === undefined) {
    throw new RangeError(`"${text}" is not a duration: write a number and a unit (ms, s, m, h), such as 500ms, 5s, 1.5m or 1h`);
  }
  const ms = Math.round(Number(match[1]) * (unitMs[unit] ?? 0));
  if (!Number.isSafeInteger(ms)) {
    throw new RangeError(`"${text}" is too long a duration`);
  }
  return ms;
}

/**
 * A short reading of `ms` for people: "850ms", "4.2s", "1m 05s", "2h 03m".
 *
 * @example formatDuration(65_000) // "1m 05s"
 */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole < 1_000) {
    return `${whole}ms`;
  }
  if (whole < 60_000) {
    return `${(whole / 1_000).toFixed(1).replace(/\.0$/, "")}s`;
  }
  const seconds = Math.floor(whole / 1_000);
  if (seconds < 3_600) {
    return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
  }
  return `${Math.floor(seconds / 3_600)}h ${String(Math.floor(seconds / 60) % 60).padStart(2, "0")}m`;
}
