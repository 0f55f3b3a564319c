import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ConnectRouterOptions,
  type ContextValues,
  createConnectRouter,
  createContextKey,
  createContextValues,
  type HandlerContext,
} from "@connectrpc/connect";
import { createAsyncIterable, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { FastifyPluginCallback, FastifyRequest } from "fastify";
import { protocolErrorAnswer } from "./protocol-error.js";
import { readInputStrictly, takesOneMessage } from "./strict-input.js";

export interface ConnectRoutesOptions extends Omit<ConnectRouterOptions, "requestGate"> {
  /** Registers the services, as connect-fastify's `routes`. */
  routes(router: ConnectRouter): void;
  readMaxBytes: number;
  /**
   * Runs for each request before its body is read: the call's context values, or a thrown
   * ConnectError, which the call then ends with, in the caller's protocol.
   */
  admit(request: FastifyRequest, service: DescService): ContextValues;
  /** Told of each call refused before its handler ran (so interceptors never saw it). */
  onRefused?(method: DescMethod, error: ConnectError, startedAt: number): void;
}

/** Why a call is refused before its handler runs; read by the request gate. */
const refusalKey = createContextKey<{ error: ConnectError; startedAt: number } | undefined>(undefined);

/**
 * Mounts a Connect router's handlers on Fastify, as connect-fastify does, with what it lacks:
 * every request is admitted (`admit`) before its body is read, and the one message of unary and
 * server-streaming calls is read strictly before Connect reads it (readInputStrictly), so client
 * mistakes are INVALID_ARGUMENT rather than 500. Every content type reaches Connect, and its bare
 * 415 and 405 answers get a Connect error body saying what to send instead.
 *
 * Register it in its own scope: it takes over that scope's body parsers.
 */
export const connectRoutes: FastifyPluginCallback<ConnectRoutesOptions> = (instance, options, done) => {
  const router = createConnectRouter({
    // As connect-fastify: requests and answers may be compressed.
    acceptCompression: [compressionGzip, compressionBrotli],
    ...options,
    // Refusals decided before Connect (admission, strict reading) end the call here, inside
    // Connect, which answers them in the caller's protocol; connect-es has no other entry for them.
    requestGate(ctx: HandlerContext) {
      const refusal = ctx.values.get(refusalKey);
      if (refusal !== undefined) {
        options.onRefused?.(ctx.method, refusal.error, refusal.startedAt);
        throw refusal.error;
      }
    },
  });
  options.routes(router);
  // Connect reads the bodies itself: every content type passes unparsed, and Connect decides.
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser("*", (_request, _payload, next) => next(null, undefined));
  for (const handler of router.handlers) {
    const strict = takesOneMessage(handler.method);
    instance.all(handler.requestPath, async (request, reply) => {
      const startedAt = performance.now();
      let values: ContextValues;
      let refusal: ConnectError | undefined;
      try {
        values = options.admit(request, handler.service);
      } catch (error) {
        values = createContextValues();
        refusal = ConnectError.from(error);
      }
      let universal = universalRequestFromNodeRequest(request.raw, reply.raw, undefined, values);
      if (refusal === undefined && strict) {
        try {
          universal = await readInputStrictly(universal, request.raw, handler.method, options.readMaxBytes);
        } catch (error) {
          refusal = ConnectError.from(error);
        }
      }
      if (refusal !== undefined) {
        values.set(refusalKey, { error: refusal, startedAt });
        // Connect will not read the rest of the body: it is dropped, so that the client can
        // finish sending and read the answer (an HTTP/2 stream otherwise stays open).
        request.raw.resume();
      }
      try {
        const answer = withErrorBody(await handler(universal), request, handler.method);
        // Fastify keeps headers set by its hooks (CORS) on the reply until reply.send(), which
        // is not used here: copy them onto the raw response first.
        for (const [name, value] of Object.entries(reply.getHeaders())) {
          if (value !== undefined) {
            reply.raw.setHeader(name, value);
          }
        }
        await universalResponseToNodeResponse(answer, reply.raw);
      } catch (error) {
        if (ConnectError.from(error).code !== Code.Aborted) {
          request.log.error(
            { err: error, rpc: `${handler.service.typeName}/${handler.method.name}` },
            "could not answer the call",
          );
        }
      }
    });
  }
  done();
};

/** Connect's bare 415 (no protocol matches the content type) and 405 (GET where only POST goes), with an error body. */
function withErrorBody(answer: UniversalServerResponse, request: FastifyRequest, method: DescMethod): UniversalServerResponse {
  if (answer.body !== undefined || (answer.status !== 415 && answer.status !== 405)) {
    return answer;
  }
  const error =
    answer.status === 415
      ? new ConnectError(
          `content-type ${JSON.stringify(request.headers["content-type"] ?? "")} is not one this server speaks: application/json or application/proto (Connect), application/connect+json or +proto (Connect streams), application/grpc (gRPC), application/grpc-web (gRPC-Web)`,
          Code.InvalidArgument,
        )
      : new ConnectError(`${request.method} is not allowed for ${method.name}: use POST`, Code.Unimplemented);
  const { headers, body } = protocolErrorAnswer(undefined, error);
  const header = new Headers(answer.header);
  for (const [name, value] of Object.entries(headers)) {
    header.set(name, value);
  }
  return { status: answer.status, header, body: createAsyncIterable([body as Uint8Array]) };
}
