import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  /** Such as http://127.0.0.1:41235, forwarding to the target. */
  url: string;
  /** Cuts every open connection, as a network fault would. */
  cutAll(): void;
  /** How many connections were made through the proxy. */
  readonly connections: number;
  close(): Promise<void>;
}

/** A TCP proxy on a random port of 127.0.0.1 in front of `targetUrl`, to cut connections on demand. */
export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    const upstream = connect(Number(target.port), target.hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        open.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error("the proxy has no TCP address");
  }
  const cutAll = (): void => {
    for (const socket of open) {
      socket.destroy();
    }
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    cutAll,
    get connections() {
      return connections;
    },
    close() {
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
