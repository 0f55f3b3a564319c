import { Code, ConnectError } from "@connectrpc/connect";
import { apiKeyId, createApiKeyCheck } from "./api-key-check.js";
import { createCallerAddress } from "./caller-address.js";
import { createFaultCheck } from "./fault-check.js";

export interface CallPolicyOptions {
  /** API keys of the callers who start and read jobs; none leaves the service open. */
  apiKeys: readonly string[];
  /**
   * The keys of workers (WORKER_KEYS): with API keys on, only these may call WorkerService, and
   * they may call nothing else. Ignored while apiKeys is empty. @default none
   */
  workerKeys?: readonly string[];
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

/** Who a service is for: callers of JobService ("jobs") or workers of WorkerService ("work"). */
export type Audience = "jobs" | "work";

/** The rules every way into JobService and WorkerService applies alike, before a request's body is read. */
export interface CallPolicy {
  /**
   * Admits a call, in this order: UNAVAILABLE once the server is closing (for JobService: workers
   * may still report the jobs they hold); UNAUTHENTICATED without
   * a valid key when keys are on, PERMISSION_DENIED for a key of the other audience (a worker
   * key on JobService, a caller's key on WorkerService); then the injected faults. `peer` is the
   * connection's address; behind a trusted proxy, the caller's address is the one it forwards.
   */
  admit(request: RequestHeaders, peer: string | undefined, audience?: Audience): Admission;
  /** From now on, admit() refuses: the server is closing. */
  close(): void;
}

export function createCallPolicy({
  apiKeys,
  workerKeys = [],
  faultRate,
  trustProxy = [],
  random,
}: CallPolicyOptions): CallPolicy {
  const faultCheck = createFaultCheck({ rate: faultRate, random });
  // One check over both sets, so that which set a key is in takes no longer to tell.
  const checkApiKey = apiKeys.length > 0 ? createApiKeyCheck([...apiKeys, ...workerKeys]) : undefined;
  const workerIds = new Set(workerKeys.map(apiKeyId));
  const callerAddress = createCallerAddress(trustProxy);
  let closing = false;
  return {
    admit(request, peer, audience = "jobs") {
      // Workers are let in while the server closes, to report the jobs they hold; their new
      // claims are refused by WorkerService itself.
      if (closing && audience === "jobs") {
        throw new ConnectError("the server is shutting down", Code.Unavailable);
      }
      let admission: Admission;
      if (checkApiKey === undefined) {
        admission = { caller: callerAddress(peer, request.header("x-forwarded-for")), owner: "" };
      } else {
        const id = checkApiKey(request.header("authorization"), request.header("x-api-key"));
        const isWorker = workerIds.has(id);
        if (isWorker !== (audience === "work")) {
          throw new ConnectError(
            isWorker
              ? "this is a worker key (WORKER_KEYS): it may call WorkerService only"
              : "WorkerService needs a worker key (WORKER_KEYS); this key may start and read jobs only",
            Code.PermissionDenied,
          );
        }
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
