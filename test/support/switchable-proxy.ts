import { connect, createServer, type Socket } from "node:net";

export interface SwitchableProxy {
  /** The target's URL with the proxy's address, such as redis://127.0.0.1:41235. */
  url: string;
  /** Cuts every open connection and refuses new ones until up(): the target is away. */
  down(): void;
  /** Lets connections through again: the target is back. */
  up(): void;
  /** Connections refused while down: the client's attempts to reconnect. */
  readonly refused: number;
  /** Connections open through the proxy now. */
  readonly open: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on a random port of 127.0.0.1 in front of `targetUrl` that can be switched off and
 * on, as a Redis that goes away and comes back with its data: what it publishes meanwhile never
 * reaches the clients behind the proxy.
 */
export async function startSwitchableProxy(targetUrl: string): Promise<SwitchableProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<[Socket, Socket]>();
  let isDown = false;
  let refused = 0;
  const server = createServer((client) => {
    if (isDown) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = connect(Number(target.port || 6379), target.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const cut = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of pair) {
      socket.on("error", cut);
      socket.on("close", cut);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error("the proxy has no TCP address");
  }
  const cutAll = (): void => {
    for (const [client, upstream] of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  return {
    url: url.toString(),
    down() {
      isDown = true;
      cutAll();
    },
    up() {
      isDown = false;
    },
    get refused() {
      return refused;
    },
    get open() {
      return pairs.size;
    },
    close() {
      isDown = true;
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
