import { Option } from "commander";
import { POLLING_MODES } from "../../client/index.js";
import { durationArgument } from "../arguments.js";

// The options of every command that waits for a job's end (create --wait, wait).

/** `--mode long|short|stream`: how to wait. */
export function modeOption(): Option {
  return new Option("--mode <mode>", "how to wait: long waits, short polls or a WatchJob stream")
    .choices(Object.values(POLLING_MODES))
    .default(POLLING_MODES.LONG);
}

/** `--timeout <duration>`: give up after this long (exit status 3). */
export function timeoutOption(): Option {
  return new Option("--timeout <duration>", "give up after this long, with exit status 3 (default: no limit)").argParser(
    durationArgument,
  );
}
