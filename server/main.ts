import { buildServer } from "./app.js";
import { ConfigError, loadConfig, type ServerConfig } from "./config.js";

// The only place that reads the environment, listens and handles signals.

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
  logger: { level: config.logLevel },
});

let closing = false;
async function close(signal: NodeJS.Signals): Promise<void> {
  if (closing) {
    return;
  }
  closing = true;
  app.log.info({ signal }, "closing: answering held waits, refusing new calls");
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
  app.log.fatal({ err: error }, "could not listen");
  process.exit(1);
}
