import type { ErrorText } from "./describe-error.js";

export interface AlertBoxElements {
  box: HTMLElement;
  text: HTMLElement;
  /** Moves to the field that would fix the error, when it names one. */
  fix: HTMLButtonElement;
  close: HTMLButtonElement;
}

/**
 * The page's alert: the last error of an action (a create, a listing), until dismissed. An error
 * that a field can fix (a missing API key) marks that field and offers to go to it.
 */
export class AlertBox {
  readonly #elements: AlertBoxElements;
  #field: HTMLElement | undefined;

  constructor(elements: AlertBoxElements) {
    this.#elements = elements;
    elements.close.addEventListener("click", () => this.hide());
    elements.fix.addEventListener("click", () => this.#field?.focus());
  }

  show(error: ErrorText): void {
    const title = document.createElement("strong");
    title.textContent = `${error.title}: `;
    this.#elements.text.replaceChildren(title, error.text);
    this.#markField(error.fieldId === undefined ? undefined : (document.getElementById(error.fieldId) ?? undefined));
    this.#elements.fix.hidden = this.#field === undefined;
    this.#elements.box.hidden = false;
  }

  hide(): void {
    this.#elements.box.hidden = true;
    this.#elements.text.replaceChildren();
    this.#markField(undefined);
  }

  #markField(field: HTMLElement | undefined): void {
    this.#field?.removeAttribute("aria-invalid");
    this.#field = field;
    field?.setAttribute("aria-invalid", "true");
  }
}
