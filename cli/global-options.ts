import { type Command, Option } from "commander";
import type { CLIENT_DEFAULTS } from "../client/index.js";
import { integerArgument, urlArgument } from "./arguments.js";

/** The options every command takes, before or after the command's name. */
export interface GlobalOptions {
  /** The server. @default "http://127.0.0.1:8000", or JOBS_URL */
  url: string;
  /** Sent as `authorization: Bearer <key>`. @default none, or JOBS_API_KEY */
  apiKey?: string;
  /** One JSON object per line on stdout, the job as proto JSON. @default false */
  json: boolean;
  /** Retries of a failed call (JobClient's maxRetries). @default CLIENT_DEFAULTS.maxRetries (5) */
  retries: number;
}

/** The defaults of GlobalOptions, declared once; --retries is the library's own default. */
export const GLOBAL_DEFAULTS = Object.freeze({
  url: "http://127.0.0.1:8000",
  json: false,
  // Written out, not read from the library, which --help must not load (see program.ts);
  // `satisfies` stops the build when the library's default changes, and a test pins the two.
  retries: 5 satisfies (typeof CLIENT_DEFAULTS)["maxRetries"],
});

export function addGlobalOptions(program: Command): Command {
  return program
    .addOption(new Option("--url <url>", "the server").env("JOBS_URL").default(GLOBAL_DEFAULTS.url).argParser(urlArgument))
    .addOption(new Option("--api-key <key>", "API key, for a server with API_KEYS").env("JOBS_API_KEY"))
    .addOption(new Option("--json", "print jobs as JSON, one object per line").default(GLOBAL_DEFAULTS.json))
    .addOption(
      new Option("--retries <n>", "retries of a failed call, with backoff")
        .default(GLOBAL_DEFAULTS.retries)
        .argParser(integerArgument(0)),
    );
}

/** The global options as the command being run sees them. */
export function readGlobalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<Partial<GlobalOptions>>();
  return {
    url: options.url ?? GLOBAL_DEFAULTS.url,
    apiKey: options.apiKey === "" ? undefined : options.apiKey,
    json: options.json ?? GLOBAL_DEFAULTS.json,
    retries: options.retries ?? GLOBAL_DEFAULTS.retries,
  };
}
