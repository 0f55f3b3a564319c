#!/usr/bin/env node
// The `jobs-cli` command (jobs/bin/jobs-cli.js starts it, compiled to jobs/dist/cli/main.js): the
// only file of the CLI that reads argv, listens for signals and sets the exit status.

import { EXIT_CODES } from "./exit-codes.js";
import { runCli } from "./program.js";

const interrupt = new AbortController();
process.once("SIGINT", () => {
  interrupt.abort(new Error("interrupted"));
  // A second Ctrl-C does not wait for the first to unwind.
  process.once("SIGINT", () => process.exit(EXIT_CODES.INTERRUPTED));
});
// SIGTERM asks as Ctrl-C does: a wait ends, `work` stops claiming and lets its commands finish.
process.once("SIGTERM", () => interrupt.abort(new Error("terminated")));

// `jobs-cli list | head -1` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") {
      throw error;
    }
    process.exit(process.exitCode ?? EXIT_CODES.OK);
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupt.signal,
});
