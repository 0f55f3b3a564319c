/**
 * Where the client writes what it does (retries, waits): any console-like or pino-like object.
 * Each method is called with a fields object first and a message second, which pino reads as
 * structured fields and console prints as is. Missing methods are skipped.
 */
export interface Logger {
  debug?(fields: Record<string, unknown>, message: string): void;
  info?(fields: Record<string, unknown>, message: string): void;
  warn?(fields: Record<string, unknown>, message: string): void;
  error?(fields: Record<string, unknown>, message: string): void;
}

/** The default: says nothing. */
export const silentLogger: Logger = Object.freeze({});
