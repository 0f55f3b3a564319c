import { setMaxListeners } from "node:events";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import type { Job } from "../../gen/jobs/v1/job_pb.js";
import type { ClaimJobResponse, WorkerService } from "../../gen/jobs/v1/worker_service_pb.js";

/** How long each claim may be held by the server, and the call's own deadline beyond it. */
const CLAIM_WAIT_S = 20n;
const CLAIM_TIMEOUT_MS = 25_000;
/** The pause after a failed call before the loop claims again. */
const RETRY_PAUSE_MS = 100;
/** What every job completes with: a small JSON result. */
const RESULT = fromJson(ValueSchema, { ok: true });

export interface WorkerLoopsOptions {
  client: Client<typeof WorkerService>;
  kind: string;
  count: number;
  /** Called the moment a claim answers with a job, with performance.now(), before CompleteJob is sent. */
  onClaimed?: (job: Job, at: number) => void;
}

/** Worker loops under way: claim (a held call), CompleteJob taking the next job waiting, claim again when none. */
export interface WorkerLoops {
  /** Jobs each loop completed. */
  completed: number[];
  /** Calls that failed for another reason than stop(). */
  failures: string[];
  /** Aborts the held claims and waits for every loop to end. */
  stop(): Promise<void>;
}

/** Starts `count` worker loops on one WorkerService client. */
export function startWorkerLoops(options: WorkerLoopsOptions): WorkerLoops {
  const stopping = new AbortController();
  // Every held claim listens on it: up to one per loop.
  setMaxListeners(options.count + 10, stopping.signal);
  const completed = Array.from({ length: options.count }, () => 0);
  const failures: string[] = [];
  const loop = async (index: number): Promise<void> => {
    const workerId = `bench-${index}`;
    while (!stopping.signal.aborted) {
      try {
        let claim: ClaimJobResponse | undefined = await options.client.claimJob(
          { kinds: [options.kind], wait: { seconds: CLAIM_WAIT_S }, workerId },
          { signal: stopping.signal, timeoutMs: CLAIM_TIMEOUT_MS },
        );
        // As JobWorker does: each completion takes the next job waiting, if any (claim_next).
        while (claim?.job !== undefined) {
          options.onClaimed?.(claim.job, performance.now());
          const done = await options.client.completeJob({
            jobId: claim.job.id,
            leaseToken: claim.leaseToken,
            result: RESULT,
            claimNext: stopping.signal.aborted ? undefined : { kinds: [options.kind], workerId },
          });
          completed[index] = (completed[index] as number) + 1;
          claim = done.next;
        }
      } catch (error) {
        if (stopping.signal.aborted && ConnectError.from(error).code === Code.Canceled) {
          return;
        }
        failures.push(String(error));
        await sleep(RETRY_PAUSE_MS);
      }
    }
  };
  const loops = completed.map((_, index) => loop(index));
  return {
    completed,
    failures,
    async stop() {
      stopping.abort();
      await Promise.all(loops);
    },
  };
}
