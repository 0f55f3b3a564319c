import type { Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

/** How a JobClient or a JobWorker reaches the server. */
export interface ConnectionOptions {
  /** The server, such as "http://127.0.0.1:8000", for the default transport (Connect over fetch). */
  baseUrl?: string;
  /** A transport of your own; wins over baseUrl. */
  transport?: Transport;
  /** Sent as `authorization: Bearer <apiKey>` on every call. */
  apiKey?: string;
}

/** A transport and the headers every call carries. */
export interface Connection {
  transport: Transport;
  headers: Record<string, string>;
}

/**
 * The transport (the caller's, else Connect over fetch to baseUrl) and the API key header, made
 * the same way for every caller of the server. Throws TypeError naming `who` without either.
 */
export function openConnection(options: ConnectionOptions, who: string): Connection {
  const transport =
    options.transport ?? (options.baseUrl === undefined ? undefined : createConnectTransport({ baseUrl: options.baseUrl }));
  if (transport === undefined) {
    throw new TypeError(`${who} needs a baseUrl or a transport`);
  }
  return { transport, headers: options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` } };
}
