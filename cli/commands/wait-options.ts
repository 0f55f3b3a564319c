import { Option } from "commander";
import type { PollingMode } from "../../client/index.js";
import { durationArgument } from "../arguments.js";

// The options of every command that waits for jobs to end (create --wait, wait).

// POLLING_MODES' values, written out because --help must not load the client library (see
// program.ts): the type takes every PollingMode and no other, so the build fails when they part.
const modes: { readonly [M in PollingMode]: M } = Object.freeze({ long: "long", short: "short", stream: "stream" });

/** `--mode long|short|stream`: how to wait. */
export function modeOption(): Option {
  return new Option("--mode <mode>", "how to wait: long waits, short polls or a WatchJob stream")
    .choices(Object.values(modes))
    .default(modes.long);
}

/**
 * `--mode long|short|stream` for `wait`, without a default of commander's: one job is waited for
 * with long waits, several with WatchJobs streams, unless --mode says otherwise.
 */
export function waitModeOption(): Option {
  return new Option(
    "--mode <mode>",
    "how to wait: long waits, short polls or a WatchJob stream (default: long for one id, a WatchJobs stream for several)",
  ).choices(Object.values(modes));
}

/** `--timeout <duration>`: give up after this long (exit status 3). */
export function timeoutOption(): Option {
  return new Option("--timeout <duration>", "give up after this long, with exit status 3 (default: no limit)").argParser(
    durationArgument,
  );
}
