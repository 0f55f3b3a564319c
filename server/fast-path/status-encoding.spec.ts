import {
  create,
  type DescField,
  type DescMessage,
  isFieldSet,
  type MessageShape,
  ScalarType,
  toBinary,
  toJsonString,
} from "@bufbuild/protobuf";
import { DurationSchema, durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import { GetStatusResponseSchema } from "../../gen/jobs/v1/job_service_pb.js";
import { statusResponseBinary, statusResponseJson } from "./status-encoding.js";

const pending = create(JobSchema, {
  id: "AAAAAAAAAAAAAAAAAAAAAA",
  state: JobState.PENDING,
  createTime: timestampFromMs(1_795_000_000_123),
  updateTime: timestampFromMs(1_795_000_000_123),
  estimatedCompletionTime: timestampFromMs(1_795_003_600_123),
  processingDuration: durationFromMs(3_600_000),
  version: 1n,
  requestId: "3f1c2d9e-8a4b-4c6d-9e0f-123456789abc",
});
const failed = create(JobSchema, {
  ...pending,
  state: JobState.ERROR,
  errorMessage: "é ünïcode and a long message ".repeat(10),
  version: 300n,
  shouldError: true,
});

const responses = [
  create(GetStatusResponseSchema, { job: pending, nextPollAfter: durationFromMs(1_000) }),
  create(GetStatusResponseSchema, { job: pending, nextPollAfter: durationFromMs(0) }),
  create(GetStatusResponseSchema, { job: pending, nextPollAfter: durationFromMs(437) }),
  create(GetStatusResponseSchema, { job: failed }),
  create(GetStatusResponseSchema, { job: create(JobSchema, { id: "x" }) }),
  create(GetStatusResponseSchema, {}),
];

/** A value of `type` other than its default (64-bit ones as bigint, or as string when the field says so). */
function scalarValue(type: ScalarType, longAsString: boolean): unknown {
  switch (type) {
    case ScalarType.STRING:
      return "é and more";
    case ScalarType.BOOL:
      return true;
    case ScalarType.BYTES:
      return new Uint8Array([1, 2, 3]);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return 1.5;
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return longAsString ? "300" : 300n;
    default:
      return 300;
  }
}

/** A value for `field` other than its default: one element for lists and maps, nested messages filled too. */
function fieldValue(field: DescField): unknown {
  const element = (kind: "scalar" | "enum" | "message"): unknown => {
    if (kind === "scalar" && field.scalar !== undefined) {
      return scalarValue(field.scalar, "longAsString" in field && field.longAsString);
    }
    if (kind === "enum" && field.enum !== undefined) {
      return field.enum.values[field.enum.values.length - 1]?.number;
    }
    return everyFieldSet(field.message as DescMessage);
  };
  switch (field.fieldKind) {
    case "list":
      return [element(field.listKind)];
    case "map":
      return { [String(scalarValue(field.mapKey, true))]: element(field.mapKind) };
    default:
      return element(field.fieldKind);
  }
}

/** A message of `schema` with every field set (the first of each oneof), and so on down. */
function everyFieldSet<Desc extends DescMessage>(schema: Desc): MessageShape<Desc> {
  const init: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (field.oneof === undefined) {
      init[field.localName] = fieldValue(field);
    } else {
      init[field.oneof.localName] ??= { case: field.localName, value: fieldValue(field) };
    }
  }
  return create(schema, init as never);
}

describe("GetStatusResponse encoding", () => {
  it("writes the very JSON protobuf-es writes, twice in a row (cached)", () => {
    for (const response of responses) {
      const expected = toJsonString(GetStatusResponseSchema, response);
      expect(new TextDecoder().decode(statusResponseJson(response))).toBe(expected);
      expect(new TextDecoder().decode(statusResponseJson(response))).toBe(expected);
    }
  });

  it("writes the very bytes protobuf-es writes, twice in a row (cached)", () => {
    for (const response of responses) {
      const expected = toBinary(GetStatusResponseSchema, response);
      expect(statusResponseBinary(response)).toEqual(expected);
      expect(statusResponseBinary(response)).toEqual(expected);
    }
  });

  // status-encoding.ts writes GetStatusResponse by hand: field 1 (tag 0x0a, JSON "job") and field
  // 2 (tag 0x12, JSON "nextPollAfter", a Duration). A field added to the message must be added
  // there too; this fails until it is (and then lists the new field here).
  it("covers exactly the fields GetStatusResponse has", () => {
    const fields = GetStatusResponseSchema.fields.map((field) => [field.number, field.name, field.message?.typeName]);
    expect(fields).toEqual([
      [1, "job", JobSchema.typeName],
      [2, "next_poll_after", DurationSchema.typeName],
    ]);
  });

  // A field added to either message (Job is encoded whole by protobuf-es, then cached) is set here
  // by itself, so an encoder that leaves it out writes different bytes.
  it("writes a response with every field set, the job's too, as protobuf-es writes it", () => {
    const response = everyFieldSet(GetStatusResponseSchema);
    for (const [schema, message] of [
      [GetStatusResponseSchema, response],
      [JobSchema, response.job],
    ] as const) {
      expect(schema.fields.filter((field) => !isFieldSet(message as never, field)).map((field) => field.name)).toEqual([]);
    }
    expect(new TextDecoder().decode(statusResponseJson(response))).toBe(toJsonString(GetStatusResponseSchema, response));
    expect(statusResponseBinary(response)).toEqual(toBinary(GetStatusResponseSchema, response));
  });
});
