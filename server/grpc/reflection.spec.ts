import { readFileSync } from "node:fs";
import {
  clone,
  create,
  createFileRegistry,
  type FileRegistry,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createClient, createConnectRouter, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { descriptorSet } from "../../gen/descriptor_set.js";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "../../gen/google/rpc/status_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection,
  type ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import {
  type ServerReflectionRequestSchema as ServerReflectionRequestV1alphaSchema,
  ServerReflectionResponseSchema as ServerReflectionResponseV1alphaSchema,
  ServerReflection as ServerReflectionV1alpha,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import type { DescriptorIndexOptions } from "./descriptor-index.js";
import { registerReflection } from "./reflection.js";

type Question = MessageInitShape<typeof ServerReflectionRequestSchema>;

// As server/app.ts registers it: the error details too, and the descriptors with comments.
const asTheAppDoes: DescriptorIndexOptions = {
  alsoDescribe: [file_google_rpc_error_details, file_google_rpc_status],
  descriptorSet,
};

function reflectionTransport(options = asTheAppDoes) {
  return createRouterTransport((router) => {
    registerReflection(router, [JobService, Health], options);
  });
}

/** Asks the questions in order on one v1 stream and collects the answers. */
async function ask(...questions: Question[]): Promise<ServerReflectionResponse[]> {
  return askWith(asTheAppDoes, ...questions);
}

async function askWith(options: DescriptorIndexOptions, ...questions: Question[]): Promise<ServerReflectionResponse[]> {
  const client = createClient(ServerReflection, reflectionTransport(options));
  const answers: ServerReflectionResponse[] = [];
  for await (const answer of client.serverReflectionInfo(streamOf(questions))) {
    answers.push(answer);
  }
  return answers;
}

/** As `ask`, on a v1alpha stream; the answers are read as v1, which has the same wire format. */
async function askV1alpha(
  ...questions: MessageInitShape<typeof ServerReflectionRequestV1alphaSchema>[]
): Promise<ServerReflectionResponse[]> {
  const client = createClient(ServerReflectionV1alpha, reflectionTransport());
  const answers: ServerReflectionResponse[] = [];
  for await (const answer of client.serverReflectionInfo(streamOf(questions))) {
    answers.push(fromBinary(ServerReflectionResponseSchema, toBinary(ServerReflectionResponseV1alphaSchema, answer)));
  }
  return answers;
}

async function* streamOf<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

/**
 * Builds a registry from a file_descriptor_response, as a reflection client does: it finds
 * imports by name, whatever their order, and throws if one is missing.
 */
function registryFrom(answer: ServerReflectionResponse | undefined): FileRegistry {
  if (answer?.messageResponse.case !== "fileDescriptorResponse") {
    throw new Error(`expected files, got ${answer?.messageResponse.case}`);
  }
  const files = answer.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
  const byName = new Map(files.map((file) => [file.name, file]));
  // A FileDescriptorSet must list every file after its imports; the answer lists them the other way.
  const ordered = new Map<string, FileDescriptorProto>();
  const visit = (file: FileDescriptorProto): void => {
    if (!ordered.has(file.name)) {
      file.dependency.flatMap((name) => byName.get(name) ?? []).forEach(visit);
      ordered.set(file.name, file);
    }
  };
  files.forEach(visit);
  return createFileRegistry(create(FileDescriptorSetSchema, { file: [...ordered.values()] }));
}

/** The files of a file_descriptor_response, as sent (source_code_info included). */
function filesOf(answer: ServerReflectionResponse | undefined): FileDescriptorProto[] {
  if (answer?.messageResponse.case !== "fileDescriptorResponse") {
    return [];
  }
  return answer.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

/**
 * The leading comment of `rpc <method>` in the .proto source, as protoc records it: the `//`
 * lines right above the declaration, each without its slashes and ending in a newline.
 */
function leadingCommentInSource(protoPath: string, method: string): string {
  const lines = readFileSync(new URL(`../../proto/${protoPath}`, import.meta.url), "utf8").split("\n");
  const at = lines.findIndex((line) => line.trim().startsWith(`rpc ${method}(`));
  let first = at;
  while (first > 0 && lines[first - 1]!.trim().startsWith("//")) {
    first--;
  }
  return lines
    .slice(first, at)
    .map((line) => `${line.trim().slice(2)}\n`)
    .join("");
}

/** The leading comment that a file's source_code_info holds for a method of its first service. */
function leadingCommentOfMethod(file: FileDescriptorProto | undefined, method: string): string | undefined {
  const methodIndex = file?.service[0]?.method.findIndex((candidate) => candidate.name === method) ?? -1;
  // The path of a method: FileDescriptorProto.service (6), index, ServiceDescriptorProto.method (2), index.
  const path = [6, 0, 2, methodIndex];
  return file?.sourceCodeInfo?.location.find((location) => location.path.join() === path.join())?.leadingComments;
}

function fileNames(answer: ServerReflectionResponse | undefined): string[] {
  if (answer?.messageResponse.case !== "fileDescriptorResponse") {
    return [];
  }
  return answer.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

describe("registerReflection", () => {
  it("lists the given services and the reflection services themselves", async () => {
    const [answer] = await ask({ messageRequest: { case: "listServices", value: "" } });

    expect(answer?.messageResponse.case).toBe("listServicesResponse");
    const names =
      answer?.messageResponse.case === "listServicesResponse" ? answer.messageResponse.value.service.map((s) => s.name) : [];
    expect(names).toEqual([
      "jobs.v1.JobService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("answers a service symbol with its file first and every import, enough to resolve its methods", async () => {
    const [answer] = await ask({ messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.JobService" } });

    const names = fileNames(answer);
    expect(names[0]).toBe("jobs/v1/job_service.proto");
    expect(names.slice(1).sort()).toEqual(
      [
        "google/protobuf/duration.proto",
        "google/protobuf/struct.proto",
        "google/protobuf/timestamp.proto",
        "jobs/v1/job.proto",
      ].sort(),
    );
    const service = registryFrom(answer).getService("jobs.v1.JobService");
    expect(service?.methods.map((method) => method.name)).toEqual([
      "CreateJob",
      "GetStatus",
      "WatchJob",
      "WatchJobs",
      "CancelJob",
      "ListJobs",
    ]);
    expect(service?.method.getStatus?.input.typeName).toBe("jobs.v1.GetStatusRequest");
    expect(service?.method.getStatus?.input.field.wait?.message?.typeName).toBe("google.protobuf.Duration");
  });

  it("finds the file of a method, a message, a nested enum value and a field", async () => {
    const answers = await ask(
      { messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.JobService.WatchJob" } },
      { messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.Job" } },
      { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.SERVING" } },
      { messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.GetStatusRequest.wait" } },
    );

    expect(answers.map((answer) => fileNames(answer)[0])).toEqual([
      "jobs/v1/job_service.proto",
      "jobs/v1/job.proto",
      "grpc/health/v1/health.proto",
      "jobs/v1/job_service.proto",
    ]);
    expect(registryFrom(answers[1]).getMessage("jobs.v1.Job")?.field.createTime?.message?.typeName).toBe(
      "google.protobuf.Timestamp",
    );
  });

  it("finds a file by name, well-known types included", async () => {
    const answers = await ask(
      { messageRequest: { case: "fileByFilename", value: "jobs/v1/job.proto" } },
      { messageRequest: { case: "fileByFilename", value: "google/protobuf/duration.proto" } },
    );

    expect(fileNames(answers[0])[0]).toBe("jobs/v1/job.proto");
    expect(fileNames(answers[1])).toEqual(["google/protobuf/duration.proto"]);
  });

  it("answers an unknown symbol with a NOT_FOUND error_response and keeps the stream for the next question", async () => {
    const answers = await ask(
      { host: "jobs.example", messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.Nope" } },
      { messageRequest: { case: "fileByFilename", value: "nope.proto" } },
      { messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.JobService" } },
    );

    expect(answers).toHaveLength(3);
    expect(answers[0]?.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    expect(answers[0]?.validHost).toBe("jobs.example");
    expect(answers[0]?.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "jobs.v1.Nope" });
    expect(answers[1]?.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    expect(fileNames(answers[2])[0]).toBe("jobs/v1/job_service.proto");
  });

  it("answers extension questions from the advertised files, NOT_FOUND for unknown types", async () => {
    const answers = await ask(
      { messageRequest: { case: "allExtensionNumbersOfType", value: "jobs.v1.Job" } },
      { messageRequest: { case: "allExtensionNumbersOfType", value: "jobs.v1.Nope" } },
      { messageRequest: { case: "fileContainingExtension", value: { containingType: "jobs.v1.Job", extensionNumber: 100 } } },
    );

    expect(answers[0]?.messageResponse).toMatchObject({
      case: "allExtensionNumbersResponse",
      value: { baseTypeName: "jobs.v1.Job", extensionNumber: [] },
    });
    expect(answers[1]?.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    expect(answers[2]?.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
  });

  it("answers v1alpha exactly as v1", async () => {
    const client = createClient(ServerReflectionV1alpha, reflectionTransport());
    const questions = [
      { messageRequest: { case: "listServices", value: "" } },
      { messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.JobService" } },
      { messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.Nope" } },
    ] as const;
    const alpha = [];
    for await (const answer of client.serverReflectionInfo(streamOf([...questions]))) {
      alpha.push(answer);
    }
    const v1 = await ask(...questions);

    expect(alpha.map((answer) => answer.messageResponse.case)).toEqual([
      "listServicesResponse",
      "fileDescriptorResponse",
      "errorResponse",
    ]);
    // The same bytes on the wire, message for message.
    expect(alpha.map((answer) => toBinary(ServerReflectionResponseV1alphaSchema, answer))).toEqual(
      v1.map((answer) => toBinary(ServerReflectionResponseSchema, answer)),
    );
  });

  it("resolves google.rpc.RetryInfo by symbol on v1 and v1alpha, with the Duration it needs", async () => {
    const question = { messageRequest: { case: "fileContainingSymbol", value: "google.rpc.RetryInfo" } } as const;
    const answers = [...(await ask(question)), ...(await askV1alpha(question))];

    for (const answer of answers) {
      expect(fileNames(answer)).toEqual(["google/rpc/error_details.proto", "google/protobuf/duration.proto"]);
      expect(registryFrom(answer).getMessage("google.rpc.RetryInfo")?.field.retryDelay?.message?.typeName).toBe(
        "google.protobuf.Duration",
      );
    }
  });

  it("resolves google.rpc.Status, in which the error details travel", async () => {
    const [answer] = await ask({ messageRequest: { case: "fileContainingSymbol", value: "google.rpc.Status" } });

    expect(fileNames(answer)).toEqual(["google/rpc/status.proto", "google/protobuf/any.proto"]);
  });

  it("describes jobs.v1.JobService with the comments written in job_service.proto", async () => {
    const [answer] = await ask({ messageRequest: { case: "fileContainingSymbol", value: "jobs.v1.JobService" } });
    const [serviceFile, ...imports] = filesOf(answer);

    const expected = leadingCommentInSource("jobs/v1/job_service.proto", "GetStatus");
    expect(expected).toContain("short polling");
    expect(leadingCommentOfMethod(serviceFile, "GetStatus")).toBe(expected);
    // The imports are documented too, the well-known types included (buf passes their comments).
    for (const file of imports) {
      expect(file.sourceCodeInfo?.location.length, file.name).toBeGreaterThan(0);
    }
  });

  it("answers a file the descriptor set lacks from the compiled-in descriptors, without comments", async () => {
    const withoutDuration = clone(FileDescriptorSetSchema, descriptorSet);
    withoutDuration.file = withoutDuration.file.filter((file) => file.name !== "google/protobuf/duration.proto");
    const [answer] = await askWith(
      { alsoDescribe: asTheAppDoes.alsoDescribe, descriptorSet: withoutDuration },
      { messageRequest: { case: "fileContainingSymbol", value: "google.rpc.RetryInfo" } },
    );

    const [details, duration] = filesOf(answer);
    expect(details?.sourceCodeInfo?.location.length).toBeGreaterThan(0);
    expect(duration?.name).toBe("google/protobuf/duration.proto");
    expect(duration?.sourceCodeInfo).toBeUndefined();
  });

  it("refuses, when registered, a descriptor set that describes a service otherwise than the compiled-in one", () => {
    const stale = clone(FileDescriptorSetSchema, descriptorSet);
    const serviceFile = stale.file.find((file) => file.name === "jobs/v1/job_service.proto");
    serviceFile!.service[0]!.method.pop();

    expect(() => registerReflection(createConnectRouter(), [JobService], { descriptorSet: stale })).toThrow(
      /jobs\/v1\/job_service\.proto does not match/,
    );
  });
});
