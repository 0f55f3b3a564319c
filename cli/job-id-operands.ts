import type { Command } from "commander";

// Job ids are 22 characters of base64url, so one in 64 starts with "-", and commander would read
// `jobs-cli wait -oRZf13befjhKGdyeJ8e1g` as an unknown option. No option of ours has that shape,
// so such an argument, given to a command that takes a job id, is an id: it is moved behind "--",
// where commander reads it as an operand. For the other commands it stays an (unknown) option.

const dashedJobId = /^-[A-Za-z0-9_-]{21}$/;

export interface OperandShapes {
  /** The flags of the options that take a value (valueFlagsOf). */
  valueFlags: ReadonlySet<string>;
  /** The commands that take a job id (idCommandsOf). */
  idCommands: ReadonlySet<string>;
}

/**
 * `args` with every id-shaped argument that starts with "-" (and is not an option's value) moved
 * behind "--", when the command named takes a job id. Arguments already behind a "--" stay as
 * they are.
 *
 * @example protectJobIds(["wait", "-oRZf13befjhKGdyeJ8e1g", "--timeout", "5s"], shapes)
 * // ["wait", "--timeout", "5s", "--", "-oRZf13befjhKGdyeJ8e1g"]
 */
export function protectJobIds(args: readonly string[], shapes: OperandShapes): string[] {
  const { valueFlags, idCommands } = shapes;
  const end = args.indexOf("--");
  const options = end === -1 ? args : args.slice(0, end);
  const operands = end === -1 ? [] : args.slice(end + 1);
  const isValue = (i: number): boolean => i > 0 && valueFlags.has(options[i - 1] as string);
  const command = options.find((arg, i) => !arg.startsWith("-") && !isValue(i));
  if (command === undefined || !idCommands.has(command)) {
    return [...args];
  }
  const kept: string[] = [];
  const ids: string[] = [];
  for (const [i, arg] of options.entries()) {
    (dashedJobId.test(arg) && !isValue(i) && !valueFlags.has(arg) ? ids : kept).push(arg);
  }
  return ids.length === 0 && end === -1 ? kept : [...kept, "--", ...ids, ...operands];
}

/** The flags (long and short) of the options of `program` and its commands that take a value. */
export function valueFlagsOf(program: Command): Set<string> {
  const flags = new Set<string>();
  for (const command of [program, ...program.commands]) {
    for (const option of command.options) {
      if (option.required || option.optional) {
        for (const flag of [option.long, option.short]) {
          if (flag !== undefined) {
            flags.add(flag);
          }
        }
      }
    }
  }
  return flags;
}

/** The names of the commands of `program` whose first argument is `<id>`. */
export function idCommandsOf(program: Command): Set<string> {
  const takingId = program.commands.filter((command) => command.registeredArguments[0]?.name() === "id");
  return new Set(takingId.map((command) => command.name()));
}
