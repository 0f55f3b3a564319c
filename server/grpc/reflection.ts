import { create, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import {
  ErrorResponseSchema,
  ExtensionNumberResponseSchema,
  FileDescriptorResponseSchema,
  ListServiceResponseSchema,
  ServerReflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
  ServiceResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  ServerReflectionRequestSchema as ServerReflectionRequestV1alphaSchema,
  ServerReflectionResponseSchema as ServerReflectionResponseV1alphaSchema,
  ServerReflection as ServerReflectionV1alpha,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createDescriptorIndex, type DescriptorIndex, type DescriptorIndexOptions } from "./descriptor-index.js";

type Answer = ServerReflectionResponse["messageResponse"];

/**
 * Registers gRPC server reflection on a Connect router, as grpc.reflection.v1 and the older
 * grpc.reflection.v1alpha, so grpcurl, buf curl and Postman can list, describe and call
 * `services` without their .proto files. The reflection services advertise themselves too.
 *
 * `options.alsoDescribe` adds what callers meet outside the methods' signatures (error details),
 * and `options.descriptorSet` supplies descriptors with source_code_info, so that clients show
 * the proto comments; see {@link DescriptorIndexOptions}. Throws if the descriptors do not
 * resolve, or if the set disagrees with the compiled-in descriptors.
 *
 * Questions about unknown files or symbols are answered with an error_response carrying
 * NOT_FOUND (5); the stream stays open for the next question. Returns the router.
 *
 * @example
 * void app.register(fastifyConnectPlugin, {
 *   routes: (router) =>
 *     registerReflection(router.service(JobService, impl), [JobService, Health], {
 *       alsoDescribe: [file_google_rpc_error_details, file_google_rpc_status],
 *       descriptorSet,
 *     }),
 * });
 */
export function registerReflection(
  router: ConnectRouter,
  services: readonly DescService[],
  options: DescriptorIndexOptions = {},
): ConnectRouter {
  // Built once here: every answer after this is a lookup.
  const index = createDescriptorIndex([...services, ServerReflection, ServerReflectionV1alpha], options);
  const answer = (request: ServerReflectionRequest): ServerReflectionResponse =>
    create(ServerReflectionResponseSchema, {
      validHost: request.host,
      originalRequest: request,
      messageResponse: answerRequest(index, request.messageRequest),
    });

  router.service(ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        yield answer(request);
      }
    },
  });
  router.service(ServerReflectionV1alpha, {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        // v1alpha is v1 under another package name: the very same bytes on the wire.
        const asV1 = fromBinary(ServerReflectionRequestSchema, toBinary(ServerReflectionRequestV1alphaSchema, request));
        yield fromBinary(ServerReflectionResponseV1alphaSchema, toBinary(ServerReflectionResponseSchema, answer(asV1)));
      }
    },
  });
  return router;
}

function answerRequest(index: DescriptorIndex, request: ServerReflectionRequest["messageRequest"]): Answer {
  switch (request.case) {
    case "listServices":
      return {
        case: "listServicesResponse",
        value: create(ListServiceResponseSchema, {
          service: index.serviceNames.map((name) => create(ServiceResponseSchema, { name })),
        }),
      };
    case "fileByFilename":
      return files(index.fileByName(request.value), `file ${request.value} not found`);
    case "fileContainingSymbol":
      return files(index.fileContainingSymbol(request.value), `symbol ${request.value} not found`);
    case "fileContainingExtension": {
      const { containingType, extensionNumber } = request.value;
      return files(
        index.fileContainingExtension(containingType, extensionNumber),
        `extension ${extensionNumber} of ${containingType} not found`,
      );
    }
    case "allExtensionNumbersOfType": {
      const numbers = index.extensionNumbers(request.value);
      if (numbers === undefined) {
        return failure(Code.NotFound, `message type ${request.value} not found`);
      }
      return {
        case: "allExtensionNumbersResponse",
        value: create(ExtensionNumberResponseSchema, { baseTypeName: request.value, extensionNumber: [...numbers] }),
      };
    }
    case undefined:
      return failure(Code.InvalidArgument, "the request sets none of the message_request fields");
  }
}

function files(found: readonly Uint8Array[] | undefined, notFound: string): Answer {
  if (found === undefined) {
    return failure(Code.NotFound, notFound);
  }
  return { case: "fileDescriptorResponse", value: create(FileDescriptorResponseSchema, { fileDescriptorProto: [...found] }) };
}

function failure(code: Code, message: string): Answer {
  return { case: "errorResponse", value: create(ErrorResponseSchema, { errorCode: code, errorMessage: message }) };
}
