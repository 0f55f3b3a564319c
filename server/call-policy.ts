import { Code, ConnectError } from "@connectrpc/connect";
import { createFaultCheck } from "./fault-injector.js";
import { createApiKeyCheck } from "./require-api-key.js";

export interface CallPolicyOptions {
  /** API keys; none leaves the service open. */
  apiKeys: readonly string[];
  /** Share of calls failed on purpose (FAULT_RATE). */
  faultRate: number;
  random?: () => number;
}

/** Who a call is, and whether it may run: the rules every way into JobService applies alike. */
export interface CallPolicy {
  /**
   * The caller (for limits) and owner (for visibility) of a call: the API key's id when keys are
   * on (UNAUTHENTICATED without a valid one), else the peer address and the shared owner "".
   */
  identify(request: { header(name: string): string | null }, peer: string): { caller: string; owner: string };
  /** Throws UNAVAILABLE once the server is closing, and the injected faults. */
  admit(): void;
  /** From now on, admit() refuses: the server is closing. */
  close(): void;
}

export function createCallPolicy({ apiKeys, faultRate, random }: CallPolicyOptions): CallPolicy {
  const faultCheck = createFaultCheck({ rate: faultRate, random });
  const checkApiKey = apiKeys.length > 0 ? createApiKeyCheck(apiKeys) : undefined;
  let closing = false;
  return {
    identify(request, peer) {
      if (checkApiKey === undefined) {
        return { caller: peer, owner: "" };
      }
      const id = checkApiKey(request.header("authorization"), request.header("x-api-key"));
      return { caller: id, owner: id };
    },
    admit() {
      if (closing) {
        throw new ConnectError("the server is shutting down", Code.Unavailable);
      }
      faultCheck();
    },
    close() {
      closing = true;
    },
  };
}
