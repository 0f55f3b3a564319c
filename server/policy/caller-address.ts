import type { IncomingMessage } from "node:http";
import proxyAddr from "@fastify/proxy-addr";

/**
 * The address a call comes from, given its connection's address and its `X-Forwarded-For`: the
 * connection's address, unless that is one of `trustProxy` (addresses, CIDR ranges, or
 * proxy-addr's "loopback", "linklocal", "uniquelocal"); then the address that proxy forwards,
 * walking back through trusted proxies only. A caller can never choose its identity by sending
 * the header itself: from an untrusted peer the header is ignored.
 */
export function createCallerAddress(
  trustProxy: readonly string[],
): (peer: string | undefined, forwardedFor: string | null) => string {
  if (trustProxy.length === 0) {
    return (peer) => peer ?? "unknown";
  }
  // Compiled once; proxy-addr (Fastify's own) is what Fastify's trustProxy uses too.
  const trust = proxyAddr.compile([...trustProxy]);
  return (peer, forwardedFor) => {
    if (peer === undefined) {
      return "unknown";
    }
    const request = {
      headers: forwardedFor === null ? {} : { "x-forwarded-for": forwardedFor },
      socket: { remoteAddress: peer },
    };
    return proxyAddr(request as unknown as IncomingMessage, trust);
  };
}
