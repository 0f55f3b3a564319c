import { type DescEnum, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

// Decimal digits only: no spaces, "+", hex or exponents (protobuf-es reads the string with BigInt()).
const int64Pattern = /^-?\d+$/;
const uint64Pattern = /^\d+$/;
/** Protobuf JSON's Duration: seconds with up to nine fractional digits, then "s". */
const durationPattern = /^-?\d{1,12}(\.\d{1,9})?s$/;

const int64Types: ReadonlySet<ScalarType> = new Set([ScalarType.INT64, ScalarType.SINT64, ScalarType.SFIXED64]);
const uint64Types: ReadonlySet<ScalarType> = new Set([ScalarType.UINT64, ScalarType.FIXED64]);

/**
 * Checks the protobuf JSON of a `desc` message for what protobuf-es's reader lets through but
 * the JSON mapping does not allow, and throws INVALID_ARGUMENT naming the field: 64-bit integers
 * written with spaces, signs or hex ("0x1", " 1"), Durations with anything after the "s"
 * ("1s junk"), and enum names the enum does not have (which it would silently drop with
 * unknown fields ignored). Everything else is left to protobuf-es, which reads it next.
 *
 * Written here because protobuf-es has no strict mode for these, and Connect gives no hook
 * between the bytes and its reader.
 */
export function checkJson(desc: DescMessage, json: unknown, path = ""): void {
  if (typeof json !== "object" || json === null || Array.isArray(json) || isWellKnown(desc)) {
    return;
  }
  for (const [key, value] of Object.entries(json)) {
    const field = desc.fields.find((f) => f.jsonName === key || f.name === key);
    if (field === undefined || value === null) {
      continue;
    }
    const name = path === "" ? field.name : `${path}.${field.name}`;
    const element = elementOf(field);
    if (field.fieldKind === "list") {
      if (Array.isArray(value)) {
        for (const [index, item] of value.entries()) {
          checkValue(element, item, `${name}[${index}]`);
        }
      }
    } else if (field.fieldKind === "map") {
      if (typeof value === "object" && !Array.isArray(value)) {
        for (const [mapKey, item] of Object.entries(value)) {
          checkValue(element, item, `${name}["${mapKey}"]`);
        }
      }
    } else {
      checkValue(element, value, name);
    }
  }
}

/** What one value of a field is (the field itself, or an element of a list or map). */
interface Element {
  scalar?: ScalarType;
  enum?: DescEnum;
  message?: DescMessage;
}

function elementOf(field: DescField): Element {
  switch (field.fieldKind) {
    case "scalar":
      return { scalar: field.scalar };
    case "enum":
      return { enum: field.enum };
    case "message":
      return { message: field.message };
    case "list":
      return field.listKind === "scalar"
        ? { scalar: field.scalar }
        : field.listKind === "enum"
          ? { enum: field.enum }
          : { message: field.message };
    case "map":
      return field.mapKind === "scalar"
        ? { scalar: field.scalar }
        : field.mapKind === "enum"
          ? { enum: field.enum }
          : { message: field.message };
  }
}

function checkValue(field: Element, value: unknown, name: string): void {
  if (value === null) {
    return;
  }
  if (field.scalar !== undefined && typeof value === "string") {
    if (int64Types.has(field.scalar) && !int64Pattern.test(value)) {
      throw invalid(`${name} must be a whole number written in decimal digits, got ${JSON.stringify(value)}`);
    }
    if (uint64Types.has(field.scalar) && !uint64Pattern.test(value)) {
      throw invalid(`${name} must be a whole number >= 0 written in decimal digits, got ${JSON.stringify(value)}`);
    }
    return;
  }
  if (field.enum !== undefined && typeof value === "string") {
    if (field.enum.values.every((v) => v.name !== value)) {
      throw invalid(`${name} has no value ${JSON.stringify(value)}: one of ${field.enum.values.map((v) => v.name).join(", ")}`);
    }
    return;
  }
  if (field.message !== undefined) {
    if (field.message.typeName === "google.protobuf.Duration" && typeof value === "string" && !durationPattern.test(value)) {
      throw invalid(`${name} must be a duration such as "1.5s", got ${JSON.stringify(value)}`);
    }
    checkJson(field.message, value, name);
  }
}

function isWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith("google.protobuf.");
}

function invalid(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
