import { durationMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it, vi } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../gen/grpc/health/v1/health_pb.js";
import { JOB_STATUS } from "../client/index.js";
import { rawClient, startServer } from "./support/start-server.js";

// Graceful close: held waits are answered at once with the current job, and close() never hangs.

describe("closing the server", () => {
  it("answers every held wait at once with the current job, then closes within a second", async () => {
    const server = await startServer();
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 30n } });
    const waits = Array.from({ length: 20 }, () =>
      raw.getStatus({ jobId: job!.id, wait: { seconds: 25n }, knownVersion: 1n }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    await server.close();
    const replies = await Promise.all(waits);

    expect(Date.now() - started).toBeLessThan(1_000);
    for (const reply of replies) {
      expect(reply.job?.state).toBe(JOB_STATUS.PENDING);
      expect(reply.job?.version).toBe(1n);
      // Not "wait again at once": this server is going away.
      expect(durationMs(reply.nextPollAfter!)).toBeGreaterThan(0);
    }
  });

  it("can be closed twice", async () => {
    const server = await startServer();
    await server.close();
    await expect(server.close()).resolves.toBeUndefined();
  });

  it("ends a held watch stream with UNAVAILABLE so the caller resumes elsewhere", async () => {
    const server = await startServer();
    const raw = rawClient(server.url);
    const { job } = await raw.createJob({ processingDuration: { seconds: 30n } });
    const seen: bigint[] = [];
    const watching = (async () => {
      for await (const update of raw.watchJob({ jobId: job!.id })) {
        seen.push(update.job!.version);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.close();
    await expect(watching).rejects.toMatchObject({ code: 14 });
    expect(seen).toEqual([1n]);
  });

  it("tells gRPC health watchers NOT_SERVING when it starts closing, then ends their streams", async () => {
    const server = await startServer();
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const statuses: ServingStatus[] = [];
    const watching = (async () => {
      for await (const reply of health.watch({ service: "jobs.v1.JobService" })) {
        statuses.push(reply.status);
      }
    })();
    await vi.waitFor(() => expect(statuses).toEqual([ServingStatus.SERVING]));
    await server.close();
    await watching;
    expect(statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });
});
