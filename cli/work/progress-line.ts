/** A progress report read from a worker command's stderr. */
export interface ProgressLine {
  /** From 0 to 1. */
  fraction: number;
  message: string;
}

const pattern = /^progress\s+(\d+(?:\.\d+)?)(%?)(?:\s+(.*))?$/;

/**
 * Reads a stderr line of the form `progress <0..1 or N%> [message]` (`progress 0.3`,
 * `progress 30% resizing`); undefined for any other line, a value out of range included, so a
 * command's other output is never taken for progress.
 */
export function parseProgressLine(line: string): ProgressLine | undefined {
  const match = pattern.exec(line.trim());
  if (match === null) {
    return undefined;
  }
  const value = Number(match[1]);
  const fraction = match[2] === "%" ? value / 100 : value;
  if (!(fraction >= 0 && fraction <= 1)) {
    return undefined;
  }
  return { fraction, message: match[3]?.trim() ?? "" };
}
