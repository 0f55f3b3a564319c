import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { type Value, ValueSchema } from "@bufbuild/protobuf/wkt";

/**
 * `json` as the google.protobuf.Value that carries it (a job's input, a worker's result). Throws
 * RangeError naming `what` when it is not a JSON value: undefined inside, a function, a bigint,
 * NaN or Infinity.
 */
export function valueFromJson(json: JsonValue, what: string): Value {
  try {
    const value = fromJson(ValueSchema, json);
    // fromJson takes NaN and Infinity, which JSON has not: their JSON encoding would fail later,
    // in the transport.
    toJson(ValueSchema, value);
    return value;
  } catch (error) {
    throw new RangeError(`${what} must be a JSON value: ${(error as Error).message}`, { cause: error });
  }
}
