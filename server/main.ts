#!/usr/bin/env node
import { buildServer } from "./app.js";
import { ConfigError, loadConfig, type ServerConfig } from "./config.js";
import { listenFailureLine, startupLine, startupSummary } from "./startup-line.js";

// The `jobs-server` command (jobs/bin/jobs-server.js starts it, compiled to jobs/dist/server/main.js;
// `npm start`): the only place that reads the environment, listens and handles signals.

/** Beyond SHUTDOWN_GRACE and DRAIN_TIMEOUT, what closing the backends may take, in ms. */
const CLOSE_MARGIN_MS = 10_000;

function configOrExit(): ServerConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`jobs server: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

const config = configOrExit();
const app = buildServer({
  ...config,
  redis: config.jobStore === "redis" ? { url: config.redisUrl, prefix: config.redisPrefix } : undefined,
  // Lines for people on a terminal; JSON, one object per line, for everything else.
  logger: process.stdout.isTTY
    ? {
        level: config.logLevel,
        transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } },
      }
    : { level: config.logLevel },
});

let closing = false;
async function close(signal: NodeJS.Signals): Promise<void> {
  if (closing) {
    return;
  }
  closing = true;
  app.log.info({ signal }, "closing: answering held waits, refusing new calls");
  // close() is bounded step by step (grace, drain, backends); this is the last word if a step
  // were not, so that the process always ends.
  const lastWordMs = config.shutdownGraceMs + config.drainTimeoutMs + CLOSE_MARGIN_MS;
  setTimeout(() => {
    app.log.error({ afterMs: lastWordMs }, "close did not finish in time: exiting anyway");
    process.exit(1);
  }, lastWordMs).unref();
  try {
    await app.close();
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, "close failed");
    process.exit(1);
  }
}
process.once("SIGTERM", (signal) => void close(signal));
process.once("SIGINT", (signal) => void close(signal));

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  app.log.fatal({ err: error }, listenFailureLine(error, config));
  process.exit(1);
}
// On a terminal the line says it all; in JSON its fields come too.
app.log.info(process.stdout.isTTY ? {} : startupSummary(app, config), startupLine(app, config));
