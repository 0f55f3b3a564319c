import { Code, ConnectError } from "@connectrpc/connect";

/** The error of a call whose lease token is not the job's current lease. */
export function staleLease(jobId: string): ConnectError {
  return new ConnectError(
    `the lease on job ${jobId} is not held: it ran out, went to another worker, or the job ended`,
    Code.FailedPrecondition,
  );
}
