import type { JsonValue } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "commander";
import { parseDuration } from "./duration.js";

// Parsers of option values for commander: each returns the value in the form the commands use,
// or throws InvalidArgumentError, which commander reports as a usage error (exit status 2).

/** "5s" -> 5000 (ms). */
export function durationArgument(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A whole number >= `min`, such as a page size or a retry count. */
export function integerArgument(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    }
    return number;
  };
}

/** An http(s) URL, such as http://127.0.0.1:8000. */
export function urlArgument(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("expected a URL such as http://127.0.0.1:8000");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidArgumentError("expected an http:// or https:// URL");
  }
  return value.replace(/\/+$/, "");
}

/** A JSON value, such as '{"hello":"world"}'. */
export function jsonArgument(value: string): JsonValue {
  try {
    return JSON.parse(value) as JsonValue;
  } catch (error) {
    throw new InvalidArgumentError(`expected JSON: ${(error as Error).message}`);
  }
}
