import { durationMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { JOB_STATUS } from "../../client/index.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { untilHeld } from "../support/held-count.js";
import { rawClient, startServer } from "../support/start-server.js";
import { waitUntil } from "../support/wait-until.js";

// Graceful close: held waits are answered at once with the current job, and close() never hangs.

describe("closing the server", () => {
  it("answers every held wait at once with the current job, then closes without waiting for them", async () => {
    const server = await startServer();
    try {
      const raw = rawClient(server.url);
      const { job } = await raw.createJob({ processingDuration: { seconds: 30n } });
      const waits = Array.from({ length: 20 }, () => raw.getStatus({ jobId: job!.id, wait: { seconds: 25n }, knownVersion: 1n }));
      await untilHeld(server.url, 20);

      const started = Date.now();
      await server.close();
      const replies = await Promise.all(waits);

      // The waits hold 25 s: closed and answered well before that, they were not waited out,
      // with room for a loaded machine. (The answers' hint tells the two apart as well.)
      expect(Date.now() - started).toBeLessThan(10_000);
      for (const reply of replies) {
        expect(reply.job?.state).toBe(JOB_STATUS.PENDING);
        expect(reply.job?.version).toBe(1n);
        // Not "wait again at once": this server is going away.
        expect(durationMs(reply.nextPollAfter!)).toBeGreaterThan(0);
      }
    } finally {
      await server.close();
    }
  });

  it("can be closed twice", async () => {
    const server = await startServer();
    await server.close();
    await expect(server.close()).resolves.toBeUndefined();
  });

  it("ends a held watch stream with UNAVAILABLE so the caller resumes elsewhere", async () => {
    const server = await startServer();
    try {
      const raw = rawClient(server.url);
      const { job } = await raw.createJob({ processingDuration: { seconds: 30n } });
      const seen: bigint[] = [];
      const watching = (async () => {
        for await (const update of raw.watchJob({ jobId: job!.id })) {
          seen.push(update.job!.version);
        }
      })();
      watching.catch(() => undefined);
      await untilHeld(server.url, 1);
      await server.close();
      await expect(watching).rejects.toMatchObject({ code: 14 });
      expect(seen).toEqual([1n]);
    } finally {
      await server.close();
    }
  });

  it("tells gRPC health watchers NOT_SERVING when it starts closing, then ends their streams", async () => {
    const server = await startServer();
    try {
      const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
      const statuses: ServingStatus[] = [];
      const watching = (async () => {
        for await (const reply of health.watch({ service: "jobs.v1.JobService" })) {
          statuses.push(reply.status);
        }
      })();
      watching.catch(() => undefined);
      await waitUntil(() => statuses.length > 0, { what: "the first health status" });
      expect(statuses).toEqual([ServingStatus.SERVING]);
      await server.close();
      await watching;
      expect(statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    } finally {
      await server.close();
    }
  });
});
