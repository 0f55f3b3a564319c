import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The exit status when there is nothing built to run: the shell's own for a command not found. */
const NOT_BUILT = 127;

/**
 * Runs the compiled `dist/<program>/main.js` of this package, or says how to build it and exits
 * with NOT_BUILT (127), which no status of the programs themselves means.
 *
 * The bins are these committed files rather than the compiled mains themselves because npm links
 * a bin only when its file exists: in a fresh clone, `npm ci` runs before anything is built, and
 * with no link in node_modules/.bin, `npx jobs-cli` would look the name up on the npm registry.
 * Installed from the tarball, dist/ is always there.
 *
 * @param {"server" | "cli"} program
 * @param {string} command the bin's name, for the message
 */
export async function startBuilt(program, command) {
  const main = new URL(`../dist/${program}/main.js`, import.meta.url);
  if (!existsSync(main)) {
    process.stderr.write(
      `${command}: ${fileURLToPath(main)} is not built: run \`npm run build\` in the repository (npm start and npm test build it too; after removing a part of jobs/dist, \`npm run clean\` first)\n`,
    );
    process.exitCode = NOT_BUILT;
    return;
  }
  await import(main.href);
}
