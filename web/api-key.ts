import type { Interceptor } from "@connectrpc/connect";

/** The sessionStorage entry the key is kept in. */
const STORAGE_ENTRY = "jobs.apiKey";

/**
 * The API key the page presents, kept for this tab only: in sessionStorage, so that a reload
 * keeps it and closing the tab forgets it, or in memory where the browser refuses storage.
 * Its `interceptor` goes on the page's one transport, so every call carries the key: creates,
 * cancels, lists and each watch's long waits alike.
 */
export class ApiKey {
  readonly #storage: Storage | undefined;
  #value: string;

  constructor(storage: Storage | undefined = sessionStorageIfAllowed()) {
    this.#storage = storage;
    this.#value = readEntry(storage);
  }

  /** The key, or "" when none is set. */
  get value(): string {
    return this.#value;
  }

  /** Sets the key (after apiKeyProblem found nothing wrong with it); "" forgets it. */
  set(key: string): void {
    this.#value = key;
    try {
      if (key === "") {
        this.#storage?.removeItem(STORAGE_ENTRY);
      } else {
        this.#storage?.setItem(STORAGE_ENTRY, key);
      }
    } catch {
      // Storage full or refused: the key still holds in memory for as long as the page is open.
    }
  }

  /** Sends `authorization: Bearer <key>` with every call while a key is set. */
  readonly interceptor: Interceptor = (next) => (request) => {
    if (this.#value !== "") {
      request.header.set("authorization", `Bearer ${this.#value}`);
    }
    return next(request);
  };
}

/** Why `key` cannot be sent as a bearer token (a header carries visible ASCII only), or undefined when it can. */
export function apiKeyProblem(key: string): string | undefined {
  return key === "" || /^[\x21-\x7e]+$/.test(key)
    ? undefined
    : "An API key has no spaces and only ASCII letters, digits and signs.";
}

function sessionStorageIfAllowed(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    // A page whose storage is blocked throws on the very access.
    return undefined;
  }
}

function readEntry(storage: Storage | undefined): string {
  try {
    return storage?.getItem(STORAGE_ENTRY) ?? "";
  } catch {
    return "";
  }
}
