import { fromJson } from "@bufbuild/protobuf";
import { timestampMs, ValueSchema } from "@bufbuild/protobuf/wkt";
import { type Client, Code, createClient } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { WorkerService } from "../../gen/jobs/v1/worker_service_pb.js";
import type { ServerOptions } from "../../server/server-options.js";
import { metricValue } from "./metric-value.js";
import { rejection } from "./rejection.js";
import { type RunningServer, rawClient, startServer, wireTransport } from "./start-server.js";
import { waitUntil } from "./wait-until.js";

/** The generated WorkerService client, without retries, for asserting on the wire. */
export function workerClient(url: string, apiKey?: string): Client<typeof WorkerService> {
  return createClient(WorkerService, wireTransport(url, apiKey));
}

/** A kind unique to one test, so that tests sharing a Redis never claim each other's jobs. */
function uniqueKind(): string {
  return `kind-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * What the workers' side must do on every backend, as one suite: `options` chooses the backend
 * (memory, or Redis with a prefix of the suite's own). Leases are short (1.5 s) so that expiry
 * is seen within a test.
 */
export function describeWorkContract(name: string, options: () => ServerOptions, { skip = false } = {}) {
  describe.skipIf(skip)(`workers: ${name}`, () => {
    let server: RunningServer;
    let kind: string;
    beforeEach(async () => {
      server = await startServer({ defaultLeaseMs: 1_500, leaseCheckMs: 200, createRate: 0, shortPollRate: 0, ...options() });
      kind = uniqueKind();
    });
    afterEach(async () => {
      await server.close();
    });

    const createWork = async (input: unknown = { n: 1 }, maxAttempts = 0) => {
      const { job } = await rawClient(server.url).createJob({ kind, input: fromJson(ValueSchema, input as never), maxAttempts });
      return job!;
    };

    it("hands a waiting job to a worker with its input, attempt 1 and start_time, and ends it with the result", async () => {
      const created = await createWork({ hello: "world" });
      expect(created).toMatchObject({ kind, attempt: 0, maxAttempts: 3, state: JobState.PENDING });
      expect(created.estimatedCompletionTime).toBeUndefined();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      expect(claim.job).toMatchObject({ id: created.id, attempt: 1, version: 2n });
      expect(claim.job?.input).toEqual(created.input);
      expect(claim.job?.startTime).toBeDefined();
      expect(timestampMs(claim.leaseExpireTime!)).toBeGreaterThan(Date.now());
      const result = fromJson(ValueSchema, { echoed: [1, 2, 3] });
      const done = await workerClient(server.url).completeJob({ jobId: created.id, leaseToken: claim.leaseToken, result });
      expect(done.job).toMatchObject({ state: JobState.COMPLETED, result });
      const seen = await rawClient(server.url).getStatus({ jobId: created.id });
      expect(seen.job).toMatchObject({ state: JobState.COMPLETED, result, attempt: 1 });
      const again = await rejection(workerClient(server.url).completeJob({ jobId: created.id, leaseToken: claim.leaseToken }));
      expect(again.code).toBe(Code.FailedPrecondition);
    });

    it("holds a claim until a job of its kind arrives, and answers it at once then", async () => {
      const claiming = workerClient(server.url).claimJob({ kinds: ["other", kind], wait: { seconds: 20n } });
      await waitUntil(async () => (await metricValue(server.url, "held_claims")) === 1, { what: "the claim to be held" });
      const created = await createWork();
      const claim = await claiming;
      expect(claim.job?.id).toBe(created.id);
      expect(await metricValue(server.url, "held_claims")).toBe(0);
    });

    it("answers a claim without a job when its wait runs out, and at once for wait 0", async () => {
      const empty = await workerClient(server.url).claimJob({ kinds: [kind], wait: { nanos: 300_000_000 } });
      expect(empty.job).toBeUndefined();
      expect(empty.leaseToken).toBe("");
      expect((await workerClient(server.url).claimJob({ kinds: [kind] })).job).toBeUndefined();
      const created = await createWork();
      expect((await workerClient(server.url).claimJob({ kinds: [kind] })).job?.id).toBe(created.id);
    });

    it("gives one job to exactly one of two racing workers", async () => {
      const created = await createWork();
      const claims = await Promise.all([
        workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 1n } }),
        workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 1n } }),
      ]);
      expect(claims.filter((claim) => claim.job?.id === created.id)).toHaveLength(1);
      expect(claims.filter((claim) => claim.job === undefined)).toHaveLength(1);
    });

    it("hands a completion that asks for it (claim_next) the next waiting job, started and leased, and none when none waits", async () => {
      const [first, second] = [await createWork({ n: 1 }), await createWork({ n: 2 })];
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      expect(claim.job?.id).toBe(first.id);
      const done = await workerClient(server.url).completeJob({
        jobId: first.id,
        leaseToken: claim.leaseToken,
        claimNext: { kinds: [kind], leaseDuration: { seconds: 20n } },
      });
      expect(done.job).toMatchObject({ id: first.id, state: JobState.COMPLETED });
      expect(done.next?.job).toMatchObject({ id: second.id, attempt: 1, held: true, state: JobState.PENDING });
      expect(done.next?.leaseToken).not.toBe(claim.leaseToken);
      expect(timestampMs(done.next!.leaseExpireTime!)).toBeGreaterThan(Date.now() + 10_000);
      const last = await workerClient(server.url).completeJob({
        jobId: second.id,
        leaseToken: done.next!.leaseToken,
        claimNext: { kinds: [kind], wait: { seconds: 30n } },
      });
      // Nothing waits: none is claimed, and the completion did not wait for one (its wait is ignored).
      expect(last.job?.state).toBe(JobState.COMPLETED);
      expect(last.next?.job).toBeUndefined();
    });

    it("leases the job claim_next takes as a claim would: kept by heartbeats, put back when its lease runs out", async () => {
      const [first, second] = [await createWork({ n: 1 }), await createWork({ n: 2 })];
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      // The claim's own lease asked again: the queue may hand the next job over with the release.
      const done = await workerClient(server.url).completeJob({
        jobId: first.id,
        leaseToken: claim.leaseToken,
        claimNext: { kinds: [kind] },
      });
      expect(done.next?.job).toMatchObject({ id: second.id, attempt: 1, held: true });
      const token = done.next!.leaseToken;
      expect((await rejection(workerClient(server.url).heartbeat({ jobId: first.id, leaseToken: claim.leaseToken }))).code).toBe(
        Code.FailedPrecondition,
      );
      const beat = await workerClient(server.url).heartbeat({ jobId: second.id, leaseToken: token });
      expect(timestampMs(beat.leaseExpireTime!)).toBeGreaterThan(Date.now());
      // No more heartbeats: the lease (1.5 s) runs out and the job goes back for another worker.
      const again = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 20n } });
      expect(again.job).toMatchObject({ id: second.id, attempt: 2 });
      expect((await rejection(workerClient(server.url).completeJob({ jobId: second.id, leaseToken: token }))).code).toBe(
        Code.FailedPrecondition,
      );
      await workerClient(server.url).completeJob({ jobId: second.id, leaseToken: again.leaseToken });
    });

    it("leases claim_next's job for the lease it asks, when that is the completed claim's too", async () => {
      const [first, second] = [await createWork({ n: 1 }), await createWork({ n: 2 })];
      const leaseDuration = { seconds: 20n };
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n }, leaseDuration });
      const done = await workerClient(server.url).completeJob({
        jobId: first.id,
        leaseToken: claim.leaseToken,
        claimNext: { kinds: [kind], leaseDuration },
      });
      expect(done.next?.job).toMatchObject({ id: second.id, attempt: 1 });
      // 20 s, not the server's default lease of 1.5 s: a claim held past that gets nothing back.
      expect(timestampMs(done.next!.leaseExpireTime!)).toBeGreaterThan(Date.now() + 10_000);
      const retaken = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 3n } });
      expect(retaken.job).toBeUndefined();
      const finished = await workerClient(server.url).completeJob({ jobId: second.id, leaseToken: done.next!.leaseToken });
      expect(finished.job?.state).toBe(JobState.COMPLETED);
    });

    it("takes claim_next's job from another of its kinds when none of the completed job's kind waits", async () => {
      const other = uniqueKind();
      const first = await createWork();
      const { job: elsewhere } = await rawClient(server.url).createJob({ kind: other, input: fromJson(ValueSchema, 1) });
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const done = await workerClient(server.url).completeJob({
        jobId: first.id,
        leaseToken: claim.leaseToken,
        claimNext: { kinds: [kind, other] },
      });
      expect(done.next?.job).toMatchObject({ id: elsewhere!.id, kind: other, attempt: 1 });
      await workerClient(server.url).completeJob({ jobId: elsewhere!.id, leaseToken: done.next!.leaseToken });
    });

    it("refuses a malformed claim_next before completing the job", async () => {
      const created = await createWork();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const refused = await rejection(
        workerClient(server.url).completeJob({ jobId: created.id, leaseToken: claim.leaseToken, claimNext: { kinds: [] } }),
      );
      expect(refused.code).toBe(Code.InvalidArgument);
      expect(refused.rawMessage).toMatch(/claim_next\.kinds/);
      expect((await rawClient(server.url).getStatus({ jobId: created.id })).job?.state).toBe(JobState.PENDING);
      await workerClient(server.url).completeJob({ jobId: created.id, leaseToken: claim.leaseToken });
    });

    it("puts a job whose lease ran out back for another worker, attempt 2, and refuses the stale token", async () => {
      const created = await createWork();
      const first = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      // No heartbeat: the 1.5 s lease runs out and the job is claimed again.
      const second = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 15n } });
      expect(second.job).toMatchObject({ id: created.id, attempt: 2, held: true });
      expect(second.leaseToken).not.toBe(first.leaseToken);
      // All three at once, each caught as it is made (none is left unhandled while another is awaited).
      const refusals = await Promise.all([
        rejection(workerClient(server.url).heartbeat({ jobId: created.id, leaseToken: first.leaseToken })),
        rejection(workerClient(server.url).completeJob({ jobId: created.id, leaseToken: first.leaseToken })),
        rejection(workerClient(server.url).failJob({ jobId: created.id, leaseToken: first.leaseToken, errorMessage: "late" })),
      ]);
      expect(refusals.map((refusal) => refusal.code)).toEqual([
        Code.FailedPrecondition,
        Code.FailedPrecondition,
        Code.FailedPrecondition,
      ]);
      expect((await rawClient(server.url).getStatus({ jobId: created.id })).job).toMatchObject({
        state: JobState.PENDING,
        attempt: 2,
      });
      await workerClient(server.url).completeJob({ jobId: created.id, leaseToken: second.leaseToken });
      expect(await metricValue(server.url, "leases_expired_total")).toBeGreaterThanOrEqual(1);
    });

    it("says in the job when its lease ran out: no longer held, its progress gone, a new version for waiters", async () => {
      const created = await createWork();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      expect(claim.job?.held).toBe(true);
      await workerClient(server.url).heartbeat({ jobId: created.id, leaseToken: claim.leaseToken, progress: { fraction: 0.4 } });
      await waitUntil(async () => (await rawClient(server.url).getStatus({ jobId: created.id })).job?.progress !== undefined, {
        what: "the progress to be shown",
      });
      const shown = (await rawClient(server.url).getStatus({ jobId: created.id })).job!;
      // No more heartbeats: a long wait from the version seen wakes when the lease runs out.
      const woken = await rawClient(server.url).getStatus({
        jobId: created.id,
        wait: { seconds: 20n },
        knownVersion: shown.version,
      });
      expect(woken.job).toMatchObject({ state: JobState.PENDING, attempt: 1, held: false });
      expect(woken.job?.progress).toBeUndefined();
    });

    it("keeps a lease alive with heartbeats past its duration", async () => {
      const created = await createWork();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        const beat = await workerClient(server.url).heartbeat({ jobId: created.id, leaseToken: claim.leaseToken });
        expect(beat.cancelRequested).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      expect((await workerClient(server.url).claimJob({ kinds: [kind] })).job).toBeUndefined();
      const done = await workerClient(server.url).completeJob({ jobId: created.id, leaseToken: claim.leaseToken });
      expect(done.job).toMatchObject({ state: JobState.COMPLETED, attempt: 1 });
    });

    it("tells a busy worker of a cancel through its heartbeat, and refuses its completion", async () => {
      const created = await createWork();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const cancelled = await rawClient(server.url).cancelJob({ jobId: created.id });
      expect(cancelled.job?.state).toBe(JobState.CANCELLED);
      const beat = await workerClient(server.url).heartbeat({ jobId: created.id, leaseToken: claim.leaseToken });
      expect(beat.cancelRequested).toBe(true);
      const late = await rejection(workerClient(server.url).completeJob({ jobId: created.id, leaseToken: claim.leaseToken }));
      expect(late.code).toBe(Code.FailedPrecondition);
      expect((await rawClient(server.url).getStatus({ jobId: created.id })).job?.state).toBe(JobState.CANCELLED);
    });

    it("never hands out a job cancelled while it waited", async () => {
      const created = await createWork();
      await rawClient(server.url).cancelJob({ jobId: created.id });
      expect((await workerClient(server.url).claimJob({ kinds: [kind], wait: { nanos: 300_000_000 } })).job).toBeUndefined();
    });

    it("queues a retryable failure again after a backoff, and ends a job in ERROR when its attempts run out", async () => {
      const created = await createWork({}, 2);
      const first = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const failed = await workerClient(server.url).failJob({
        jobId: created.id,
        leaseToken: first.leaseToken,
        errorMessage: "flaky",
        retryable: true,
      });
      expect(failed.job).toMatchObject({ state: JobState.PENDING, attempt: 1, held: false });
      expect(failed.job?.version).toBeGreaterThan(first.job!.version);
      const failedAt = Date.now();
      const second = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 10n } });
      expect(second.job).toMatchObject({ id: created.id, attempt: 2 });
      // The first backoff is 0.5 to 1 s.
      expect(Date.now() - failedAt).toBeGreaterThanOrEqual(400);
      const last = await workerClient(server.url).failJob({
        jobId: created.id,
        leaseToken: second.leaseToken,
        errorMessage: "flaky again",
        retryable: true,
      });
      expect(last.job?.state).toBe(JobState.ERROR);
      expect(last.job?.errorMessage).toContain("flaky again");
      expect(last.job?.errorMessage).toContain("attempt 2 of 2");
      expect(await metricValue(server.url, "attempts_retried_total")).toBe(1);
    });

    it("ends a job at once on a failure that is not retryable, with the worker's message", async () => {
      const created = await createWork();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const failed = await workerClient(server.url).failJob({
        jobId: created.id,
        leaseToken: claim.leaseToken,
        errorMessage: "bad input",
      });
      expect(failed.job).toMatchObject({ state: JobState.ERROR, errorMessage: "bad input", attempt: 1 });
    });

    it("ends a job in ERROR when the lease of its last attempt runs out", async () => {
      const created = await createWork({}, 1);
      await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const ended = await rawClient(server.url).getStatus({ jobId: created.id, wait: { seconds: 20n }, knownVersion: 2n });
      expect(ended.job?.state).toBe(JobState.ERROR);
      expect(ended.job?.errorMessage).toContain("lease ran out");
    });

    it("shows progress to a long wait, coalescing a burst of reports into a few changes", async () => {
      const created = await createWork();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const waiting = rawClient(server.url).getStatus({ jobId: created.id, wait: { seconds: 10n }, knownVersion: 2n });
      for (let i = 1; i <= 20; i++) {
        await workerClient(server.url).heartbeat({
          jobId: created.id,
          leaseToken: claim.leaseToken,
          progress: { fraction: i / 20, message: `step ${i}` },
        });
      }
      const woken = await waiting;
      expect(woken.job?.progress?.fraction).toBeGreaterThan(0);
      // The last report is shown once its interval ends, however soon after the others it came.
      await waitUntil(
        async () => (await rawClient(server.url).getStatus({ jobId: created.id })).job?.progress?.message === "step 20",
        {
          what: "the last progress to be shown",
        },
      );
      const job = (await rawClient(server.url).getStatus({ jobId: created.id })).job!;
      expect(job.progress?.fraction).toBe(1);
      expect(job.version).toBeLessThan(2n + 20n);
    });

    it("refuses an input or a result over MAX_PAYLOAD_BYTES, naming the field, and changes nothing", async () => {
      await server.close();
      server = await startServer({ defaultLeaseMs: 1_500, createRate: 0, maxPayloadBytes: 1_000, ...options() });
      const big = "x".repeat(2_000);
      const input = await rejection(rawClient(server.url).createJob({ kind, input: fromJson(ValueSchema, big) }));
      expect(input.code).toBe(Code.InvalidArgument);
      expect(input.rawMessage).toMatch(/input .*1000/);
      const created = await createWork();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const result = await rejection(
        workerClient(server.url).completeJob({
          jobId: created.id,
          leaseToken: claim.leaseToken,
          result: fromJson(ValueSchema, big),
        }),
      );
      expect(result.code).toBe(Code.InvalidArgument);
      expect(result.rawMessage).toMatch(/result .*1000/);
      expect((await rawClient(server.url).getStatus({ jobId: created.id })).job?.state).toBe(JobState.PENDING);
    });

    it("refuses malformed worker requests with INVALID_ARGUMENT naming the field", async () => {
      const cases: [Promise<unknown>, RegExp][] = [
        [workerClient(server.url).claimJob({ kinds: [] }), /kinds is required/],
        [workerClient(server.url).claimJob({ kinds: ["no spaces"] }), /kinds\[0\]/],
        [workerClient(server.url).claimJob({ kinds: [kind], leaseDuration: { nanos: 5_000_000 } }), /lease_duration/],
        [workerClient(server.url).heartbeat({ jobId: "nope", leaseToken: "x" }), /job_id/],
        [workerClient(server.url).completeJob({ jobId: "AAAAAAAAAAAAAAAAAAAAAA", leaseToken: "" }), /lease_token/],
        [rawClient(server.url).createJob({ kind: "a b" }), /kind/],
        [rawClient(server.url).createJob({ kind, maxAttempts: 101 }), /max_attempts/],
        [rawClient(server.url).createJob({ processingDuration: { seconds: 1n }, maxAttempts: 2 }), /kind/],
      ];
      for (const [call, message] of cases) {
        const error = await rejection(call);
        expect(error.code).toBe(Code.InvalidArgument);
        expect(error.rawMessage).toMatch(message);
      }
      const created = await createWork();
      const claim = await workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 5n } });
      const badProgress = await rejection(
        workerClient(server.url).heartbeat({ jobId: created.id, leaseToken: claim.leaseToken, progress: { fraction: 1.5 } }),
      );
      expect(badProgress.code).toBe(Code.InvalidArgument);
    });

    it("answers held claims at once, without a job, when the server closes", async () => {
      const claiming = workerClient(server.url).claimJob({ kinds: [kind], wait: { seconds: 20n } });
      await waitUntil(async () => (await metricValue(server.url, "held_claims")) === 1, { what: "the claim to be held" });
      const closing = server.close();
      const claim = await claiming;
      expect(claim.job).toBeUndefined();
      await closing;
      server = await startServer(options());
    });
  });
}
