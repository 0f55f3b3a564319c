import { once } from "node:events";
import { type ClientHttp2Stream, connect as connectHttp2 } from "node:http2";

const CHECK_PATH = "/grpc.health.v1.Health/Check";

/**
 * Keeps one request in flight on the server at `url` until released: a health Check (which no
 * call policy refuses) whose body never ends. A closing server keeps its port open until its
 * requests in flight are answered (or DRAIN_TIMEOUT), so while this holds, the server is closing
 * but still takes connections, for as long as a test needs, on a machine however slow.
 *
 * Resolves once the server has the request: a second Check, sent after it on the same HTTP/2
 * connection, has been answered (the server reads a connection's streams in order).
 */
export async function holdRequestOpen(url: string): Promise<() => void> {
  const session = connectHttp2(url);
  session.on("error", () => undefined);
  const release = (): void => {
    session.destroy();
  };
  try {
    const held = session.request({
      ":method": "POST",
      ":path": CHECK_PATH,
      "content-type": "application/json",
      "content-length": "2",
    });
    held.on("error", () => undefined);
    held.write("{");
    const after = session.request({ ":method": "POST", ":path": CHECK_PATH, "content-type": "application/json" });
    after.on("error", () => undefined);
    after.end("{}");
    await answered(after);
    return release;
  } catch (error) {
    release();
    throw error;
  }
}

async function answered(stream: ClientHttp2Stream): Promise<void> {
  stream.resume();
  const [headers] = (await once(stream, "response")) as [Record<string, unknown>];
  if (headers[":status"] !== 200) {
    throw new Error(`the health check answered HTTP ${String(headers[":status"])}`);
  }
}
