import { Writable } from "node:stream";

export interface CapturedLog {
  /** For ServerOptions.logger: pino at `level`, writing here instead of to stdout. */
  logger: { level: string };
  /** Every line written so far, parsed (pino writes one JSON object per line). */
  entries(): Record<string, unknown>[];
  /** Everything written so far, as written. */
  text(): string;
}

/** Keeps a server's log in memory, for tests that check what it logs (and what it must not). */
export function captureLog(level = "info"): CapturedLog {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    logger: { level, stream } as { level: string },
    entries: () =>
      text
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => text,
  };
}
