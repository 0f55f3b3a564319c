// The server under test, as its own process: buildServer() from server/app.ts on 127.0.0.1:0.
// argv[2] is a JSON object of ServerOptions settings. Answers "memory" (after a forced GC; start
// it with --expose-gc) and "held" (how many long waits it holds) over IPC.
import { buildServer } from "../../server/app.js";
import type { ServerOptions } from "../../server/server-options.js";
import { HeldWaits } from "../../server/waits/held-waits.js";
import { serveParent } from "../serve-parent.js";

const options = JSON.parse(process.argv[2] ?? "{}") as ServerOptions;
// Our own registry, so the runner can tell when every wait it opened is held.
const heldWaits = new HeldWaits({ maxPerCaller: options.maxWaitsPerCaller, maxTotal: options.maxHeldWaits });
const app = buildServer({ ...options, heldWaits, logger: false });
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
if (address === null || typeof address === "string") {
  throw new Error("the server has no TCP address");
}

serveParent(
  {
    memory: () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      return { ...process.memoryUsage(), gcForced: gc !== undefined };
    },
    held: () => heldWaits.size,
  },
  { url: `http://127.0.0.1:${address.port}` },
);
process.once("SIGTERM", () => void app.close().finally(() => process.exit(0)));
