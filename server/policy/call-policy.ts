import { Code, ConnectError } from "@connectrpc/connect";
import { createApiKeyCheck } from "./api-key-check.js";
import { createCallerAddress } from "./caller-address.js";
import { createFaultCheck } from "./fault-check.js";

export interface CallPolicyOptions {
  /** API keys; none leaves the service open. */
  apiKeys: readonly string[];
  /** Share of calls failed on purpose (FAULT_RATE). */
  faultRate: number;
  /** The proxies whose X-Forwarded-For is believed (TRUST_PROXY). @default none */
  trustProxy?: readonly string[];
  random?: () => number;
}

/** A request's headers, whichever HTTP API carries them. */
export interface RequestHeaders {
  /** One request header (lower-case name); several values are joined as HTTP joins them. */
  header(name: string): string | null;
}

/** Who a call is, and whether it may run. */
export interface Admission {
  /** For rate limits and per-caller caps: the API key's id when keys are on, else the caller's address. */
  caller: string;
  /** Whose jobs the call may see: the API key's id when keys are on, else "" (one shared space). */
  owner: string;
}

/** The rules every way into JobService applies alike, before a request's body is read. */
export interface CallPolicy {
  /**
   * Admits a call, in this order: UNAVAILABLE once the server is closing; UNAUTHENTICATED without
   * a valid key when keys are on; then the injected faults. `peer` is the connection's address;
   * behind a trusted proxy, the caller's address is the one it forwards.
   */
  admit(request: RequestHeaders, peer: string | undefined): Admission;
  /** From now on, admit() refuses: the server is closing. */
  close(): void;
}

export function createCallPolicy({ apiKeys, faultRate, trustProxy = [], random }: CallPolicyOptions): CallPolicy {
  const faultCheck = createFaultCheck({ rate: faultRate, random });
  const checkApiKey = apiKeys.length > 0 ? createApiKeyCheck(apiKeys) : undefined;
  const callerAddress = createCallerAddress(trustProxy);
  let closing = false;
  return {
    admit(request, peer) {
      if (closing) {
        throw new ConnectError("the server is shutting down", Code.Unavailable);
      }
      let admission: Admission;
      if (checkApiKey === undefined) {
        admission = { caller: callerAddress(peer, request.header("x-forwarded-for")), owner: "" };
      } else {
        const id = checkApiKey(request.header("authorization"), request.header("x-api-key"));
        admission = { caller: id, owner: id };
      }
      faultCheck();
      return admission;
    },
    close() {
      closing = true;
    },
  };
}
