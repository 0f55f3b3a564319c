import { cors as connectCors } from "@connectrpc/connect";
import type { FastifyCorsOptions } from "@fastify/cors";

/** Headers a browser may read from our answers: Connect's, gRPC-Web's and the rate-limit hint. */
const exposedHeaders = [...connectCors.exposedHeaders, "Retry-After"];

/** Which browser origins may call the server, applied alike on every path into it. */
export interface CorsPolicy {
  /** The options of @fastify/cors, for the answers Fastify writes (preflights included). */
  readonly fastifyOptions: FastifyCorsOptions;
  /** The CORS headers of an answer to a request from `origin`, as @fastify/cors writes them. */
  headers(origin: string | null): Record<string, string>;
}

/** CORS for `origins` (exact origins such as "https://app.example.com"); undefined allows any. */
export function createCorsPolicy(origins: readonly string[] | undefined): CorsPolicy {
  const allowed = origins === undefined ? undefined : new Set(origins);
  const allows = (origin: string | null): boolean => origin !== null && (allowed === undefined || allowed.has(origin));
  return {
    fastifyOptions: {
      // A set lookup rather than @fastify/cors's list, so both paths decide by the same function.
      origin: (origin, callback) => callback(null, allows(origin ?? null)),
      methods: [...connectCors.allowedMethods],
      allowedHeaders: [...connectCors.allowedHeaders, "Authorization", "X-Api-Key"],
      exposedHeaders,
      maxAge: 7200,
    },
    headers(origin) {
      const headers: Record<string, string> = { vary: "Origin" };
      if (allows(origin)) {
        headers["access-control-allow-origin"] = origin as string;
        headers["access-control-expose-headers"] = exposedHeaders.join(", ");
      }
      return headers;
    },
  };
}
