import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";

/** A kind as CreateJobRequest.kind takes it: 1 to 64 letters, digits and `.`, `_`, `-`, `/`. */
const KIND_PATTERN = /^[A-Za-z0-9._\-/]{1,64}$/;
/** CreateJobRequest.max_attempts: 1 to 100, or empty for the server's default (3). */
const MAX_ATTEMPTS_LIMIT = 100;

/** What the form asks for: a simulated job, run by the server, or a job of a kind, for a worker. */
export type NewJob =
  | { type: "simulated"; processingDurationMs: number; shouldError: boolean }
  | { type: "of-kind"; kind: string; input: JsonValue | undefined; maxAttempts: number };

export interface CreateFormFields {
  form: HTMLFormElement;
  /** Empty for a simulated job. */
  kind: HTMLInputElement;
  /** The fields of a simulated job (duration, should_error), shown while the kind is empty. */
  simulated: HTMLFieldSetElement;
  duration: HTMLInputElement;
  shouldError: HTMLInputElement;
  /** The fields of a job of a kind (input, max attempts), shown once a kind is given. */
  ofKind: HTMLFieldSetElement;
  input: HTMLTextAreaElement;
  maxAttempts: HTMLInputElement;
  /** Where the form says what to fix. */
  problem: HTMLElement;
}

type Field = HTMLInputElement | HTMLTextAreaElement;

/**
 * The New job form: shows the fields that the job's kind needs, and reads them into the job to
 * create, checking them first (the input must be JSON) so that nothing malformed is sent.
 */
export class CreateForm {
  readonly #fields: CreateFormFields;

  constructor(fields: CreateFormFields) {
    this.#fields = fields;
    fields.kind.addEventListener("input", () => this.#showFieldsOfKind());
    this.#showFieldsOfKind();
  }

  /** The job the form asks for; undefined when a field is wrong: it is marked, focused and explained. */
  read(): NewJob | undefined {
    this.#clearProblem();
    const { kind, duration, shouldError, input, maxAttempts } = this.#fields;
    const kindText = kind.value.trim();
    if (kindText === "") {
      const seconds = duration.valueAsNumber;
      if (!Number.isFinite(seconds) || seconds < 0) {
        return this.#fail(duration, "Enter a duration in seconds, 0 or more.");
      }
      return { type: "simulated", processingDurationMs: Math.round(seconds * 1000), shouldError: shouldError.checked };
    }
    if (!KIND_PATTERN.test(kindText)) {
      return this.#fail(kind, "A kind is 1 to 64 letters, digits and . _ - : / (no spaces).");
    }
    const attempts = maxAttempts.value.trim() === "" ? 0 : maxAttempts.valueAsNumber;
    if (!Number.isInteger(attempts) || attempts < 0 || attempts > MAX_ATTEMPTS_LIMIT) {
      return this.#fail(maxAttempts, `Max attempts is a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}, or empty for the default.`);
    }
    const parsed = parseJsonInput(input.value);
    if (typeof parsed === "string") {
      return this.#fail(input, `The input is not valid JSON: ${parsed}`);
    }
    return { type: "of-kind", kind: kindText, input: parsed, maxAttempts: attempts };
  }

  #showFieldsOfKind(): void {
    const ofKind = this.#fields.kind.value.trim() !== "";
    // A disabled fieldset's fields are neither validated by the browser nor submitted.
    this.#fields.simulated.hidden = ofKind;
    this.#fields.simulated.disabled = ofKind;
    this.#fields.ofKind.hidden = !ofKind;
    this.#fields.ofKind.disabled = !ofKind;
  }

  #fail(field: Field, message: string): undefined {
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", this.#fields.problem.id);
    this.#fields.problem.textContent = message;
    this.#fields.problem.hidden = false;
    field.focus();
    return undefined;
  }

  #clearProblem(): void {
    for (const field of this.#fields.form.querySelectorAll("[aria-invalid]")) {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
    }
    this.#fields.problem.hidden = true;
    this.#fields.problem.textContent = "";
  }
}

/** The input as a JSON value (undefined when the field is empty), or why it is not JSON. */
function parseJsonInput(text: string): JsonValue | undefined | string {
  if (text.trim() === "") {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as JsonValue;
    // What JSON.parse lets through but a JSON value cannot carry (1e999) is refused here too.
    fromJson(ValueSchema, value);
    return value;
  } catch (error) {
    // JSON.parse names the position; fromJson refuses what JSON.parse lets through (1e999).
    return error instanceof Error ? error.message : String(error);
  }
}
