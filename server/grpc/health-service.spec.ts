import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { createHealthService, type HealthService } from "./health-service.js";

function healthClient(health: HealthService) {
  return createClient(
    Health,
    createRouterTransport((router) => {
      router.service(Health, health.impl);
    }),
  );
}

describe("createHealthService", () => {
  it("reports the whole server SERVING by default", async () => {
    const client = healthClient(createHealthService());

    const answer = await client.check({ service: "" });

    expect(answer.status).toBe(ServingStatus.SERVING);
  });

  it("checks a service by name and fails with NotFound for one it does not know", async () => {
    const health = createHealthService();
    health.setStatus("jobs.v1.JobService", ServingStatus.NOT_SERVING);
    const client = healthClient(health);

    expect((await client.check({ service: "jobs.v1.JobService" })).status).toBe(ServingStatus.NOT_SERVING);
    const error = await client.check({ service: "nope.v1.Nope" }).catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.NotFound);
  });

  it("watches: the status at once, then each change, then NOT_SERVING on shutdown, and the stream ends", async () => {
    const health = createHealthService();
    const client = healthClient(health);
    const seen: ServingStatus[] = [];

    for await (const answer of client.watch({ service: "" })) {
      seen.push(answer.status);
      if (seen.length === 1) {
        health.setStatus("", ServingStatus.SERVING); // unchanged: not sent again
        health.setStatus("", ServingStatus.NOT_SERVING);
      } else if (seen.length === 2) {
        health.setStatus("", ServingStatus.SERVING);
      } else if (seen.length === 3) {
        health.shutdown();
      }
    }

    expect(seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(health.openWatches).toBe(0);
  });

  it("watches an unknown service as SERVICE_UNKNOWN without failing, until it becomes known", async () => {
    const health = createHealthService();
    const client = healthClient(health);
    const seen: ServingStatus[] = [];

    for await (const answer of client.watch({ service: "later.v1.Later" })) {
      seen.push(answer.status);
      if (seen.length === 1) {
        health.setStatus("later.v1.Later", ServingStatus.SERVING);
      } else {
        health.shutdown();
      }
    }

    expect(seen).toEqual([ServingStatus.SERVICE_UNKNOWN, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  });

  it("stops a watch and forgets it when the caller goes away", async () => {
    const health = createHealthService();
    const client = healthClient(health);
    const caller = new AbortController();

    const watching = (async () => {
      for await (const answer of client.watch({ service: "" }, { signal: caller.signal })) {
        expect(answer.status).toBe(ServingStatus.SERVING);
        caller.abort();
      }
    })();

    await expect(watching).rejects.toMatchObject({ code: Code.Canceled });
    await vi.waitFor(() => expect(health.openWatches).toBe(0));
  });

  it("after shutdown, ignores new statuses and ends a new watch after one answer", async () => {
    const health = createHealthService({ statuses: { "": ServingStatus.SERVING, "jobs.v1.JobService": ServingStatus.SERVING } });
    health.shutdown();
    health.shutdown();
    health.setStatus("jobs.v1.JobService", ServingStatus.SERVING);
    const client = healthClient(health);

    expect((await client.check({ service: "jobs.v1.JobService" })).status).toBe(ServingStatus.NOT_SERVING);
    const seen: ServingStatus[] = [];
    for await (const answer of client.watch({ service: "" })) {
      seen.push(answer.status);
    }
    expect(seen).toEqual([ServingStatus.NOT_SERVING]);
  });
});
