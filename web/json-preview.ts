import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { type Value, ValueSchema } from "@bufbuild/protobuf/wkt";

/** Values longer than this, as compact JSON, are shortened; the full value is a click away. */
const PREVIEW_CHARS = 60;
/** The most of a value a tooltip carries (a result may be 64 KiB); the expanded view has it all. */
const TITLE_CHARS = 2_000;

/** A JSON value as a row shows it: compact JSON, cut to `max` characters with an ellipsis. */
export interface JsonPreview {
  text: string;
  full: string;
  shortened: boolean;
}

export function previewJson(json: JsonValue, max = PREVIEW_CHARS): JsonPreview {
  const full = JSON.stringify(json);
  // By code points, so an emoji is never cut in half.
  const chars = Array.from(full);
  const shortened = chars.length > max;
  return { text: shortened ? `${chars.slice(0, max - 1).join("")}…` : full, full, shortened };
}

/**
 * Shows a google.protobuf.Value: its compact JSON when short; when long, the start of it with the
 * whole value in the tooltip and, expanded, pretty-printed in full.
 */
export function jsonElement(value: Value): HTMLElement {
  const json = toJson(ValueSchema, value);
  const preview = previewJson(json);
  const code = document.createElement("code");
  code.className = "json";
  code.textContent = preview.text;
  if (!preview.shortened) {
    return code;
  }
  code.title = preview.full.length > TITLE_CHARS ? `${preview.full.slice(0, TITLE_CHARS)}…` : preview.full;
  const details = document.createElement("details");
  details.className = "json-more";
  const summary = document.createElement("summary");
  summary.append(code);
  const pre = document.createElement("pre");
  pre.textContent = JSON.stringify(json, null, 2);
  details.append(summary, pre);
  return details;
}
