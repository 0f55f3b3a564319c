import {
  clone,
  create,
  createFileRegistry,
  type DescEnum,
  type DescExtension,
  type DescFile,
  type DescMessage,
  type DescService,
  equals,
  toBinary,
} from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  type FileDescriptorSet,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";

/**
 * What server reflection needs to know about a set of services, from tables built once.
 * Files are answered as serialized google.protobuf.FileDescriptorProto messages: the file asked
 * for first, then every file it imports, transitively (well-known types included), each once.
 */
export interface DescriptorIndex {
  /** The full names of the services, in the order given, without repeats. */
  readonly serviceNames: readonly string[];
  /** The file of that name (e.g. "jobs/v1/job.proto") with its imports; undefined if unknown. */
  fileByName(fileName: string): readonly Uint8Array[] | undefined;
  /**
   * The file declaring a fully-qualified symbol, with its imports: a service, method, message,
   * nested message, field, oneof, enum, enum value or extension. Undefined if unknown.
   */
  fileContainingSymbol(symbol: string): readonly Uint8Array[] | undefined;
  /** The file declaring extension `fieldNumber` of message `extendee`, with its imports. */
  fileContainingExtension(extendee: string, fieldNumber: number): readonly Uint8Array[] | undefined;
  /** The field numbers of the known extensions of message `extendee`; undefined if no such message. */
  extensionNumbers(extendee: string): readonly number[] | undefined;
}

/** What to describe besides the services' own files, and where to take the descriptors from. */
export interface DescriptorIndexOptions {
  /**
   * Messages, enums, extensions or whole files that callers meet although no method names them,
   * such as the error details packed in a google.rpc.Status: each is described with its file and
   * the file's imports. Their services, if any, are not listed.
   */
  readonly alsoDescribe?: readonly (DescFile | DescMessage | DescEnum | DescExtension)[];
  /**
   * Descriptors to answer with in place of the compiled-in ones, matched by file name: typically
   * a set kept with source_code_info, so that clients show the proto comments. It chooses no
   * files, it only documents them; files it lacks are answered without comments. Each file in
   * it must match its compiled-in twin, comments aside, or the index throws.
   */
  readonly descriptorSet?: FileDescriptorSet;
}

/**
 * Indexes the files that declare `services` and `options.alsoDescribe`, and everything they
 * import. Throws if those files do not form a consistent set, or if `options.descriptorSet`
 * describes one of them otherwise than the compiled-in descriptor: better at start-up than in a
 * client's registry later.
 */
export function createDescriptorIndex(services: readonly DescService[], options: DescriptorIndexOptions = {}): DescriptorIndex {
  const roots = [...services, ...(options.alsoDescribe ?? [])].map((desc) => (desc.kind === "file" ? desc : desc.file));
  const documented = new Map((options.descriptorSet?.file ?? []).map((proto) => [proto.name, proto]));
  const protos = dependenciesFirst(roots).map((file) => withComments(file, documented.get(file.proto.name)));
  // Rebuilding a registry from the very descriptors we will send proves they resolve on their own.
  const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: protos }));

  const encoded = new Map<string, Uint8Array>();
  const encode = (file: DescFile): Uint8Array => {
    let bytes = encoded.get(file.proto.name);
    if (bytes === undefined) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      encoded.set(file.proto.name, bytes);
    }
    return bytes;
  };
  const answers = new Map<string, Uint8Array[]>();
  for (const file of registry.files) {
    answers.set(file.proto.name, withImports(file).map(encode));
  }

  const symbols = new Map<string, DescFile>();
  const extensions = new Map<string, number[]>();
  for (const type of registry) {
    symbols.set(type.typeName, type.file);
    switch (type.kind) {
      case "message":
        for (const member of [...type.fields, ...type.oneofs]) {
          symbols.set(`${type.typeName}.${member.name}`, type.file);
        }
        break;
      case "enum": {
        // Enum values are scoped like siblings of their enum, as in C++: jobs.v1.JOB_STATE_PENDING.
        const scope = type.typeName.slice(0, type.typeName.lastIndexOf(".") + 1);
        for (const value of type.values) {
          symbols.set(scope + value.name, type.file);
        }
        break;
      }
      case "service":
        for (const method of type.methods) {
          symbols.set(`${type.typeName}.${method.name}`, type.file);
        }
        break;
      case "extension": {
        const numbers = extensions.get(type.extendee.typeName) ?? [];
        numbers.push(type.number);
        extensions.set(type.extendee.typeName, numbers);
        break;
      }
    }
  }

  const answerFor = (file: DescFile | undefined) => (file === undefined ? undefined : answers.get(file.proto.name));
  return {
    serviceNames: [...new Set(services.map((service) => service.typeName))],
    fileByName: (fileName) => answers.get(fileName),
    fileContainingSymbol: (symbol) => answerFor(symbols.get(symbol)),
    fileContainingExtension(extendee, fieldNumber) {
      const message = registry.getMessage(extendee);
      return answerFor(message && registry.getExtensionFor(message, fieldNumber)?.file);
    },
    extensionNumbers: (extendee) => (registry.getMessage(extendee) === undefined ? undefined : (extensions.get(extendee) ?? [])),
  };
}

/** The files and all they import, each once, every file after the files it imports. */
function dependenciesFirst(roots: readonly DescFile[]): DescFile[] {
  const ordered = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (!ordered.has(file.proto.name)) {
      file.dependencies.forEach(visit);
      ordered.set(file.proto.name, file);
    }
  };
  roots.forEach(visit);
  return [...ordered.values()];
}

/** The file first, then its imports breadth first, each once: the order grpc-go sends them in. */
function withImports(file: DescFile): DescFile[] {
  const seen = new Map<string, DescFile>([[file.proto.name, file]]);
  for (const next of seen.values()) {
    for (const dependency of next.dependencies) {
      if (!seen.has(dependency.proto.name)) {
        seen.set(dependency.proto.name, dependency);
      }
    }
  }
  return [...seen.values()];
}

/**
 * The documented twin of a compiled-in file, if there is one and it describes the same thing:
 * a stale set would describe messages other than those the server encodes.
 */
function withComments(file: DescFile, documented: FileDescriptorProto | undefined): FileDescriptorProto {
  if (documented === undefined) {
    return file.proto;
  }
  const bare = clone(FileDescriptorProtoSchema, documented);
  bare.sourceCodeInfo = undefined;
  if (!equals(FileDescriptorProtoSchema, bare, file.proto)) {
    throw new Error(
      `the descriptor set's ${file.proto.name} does not match the compiled-in descriptor: generate both from the same protos (buf generate)`,
    );
  }
  return documented;
}
