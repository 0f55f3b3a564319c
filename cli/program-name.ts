/** What the CLI calls itself in usage, help and error lines: its package.json "bin" name. */
export const PROGRAM_NAME = "jobs-cli";
