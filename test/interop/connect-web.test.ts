import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { type RunningServer, startServer } from "../support/start-server.js";

// The interop scenario from Connect's own clients: connect-node's gRPC transport over HTTP/2
// cleartext, and connect-web's Connect transport over fetch (HTTP/1.1), as a browser would.

const transports: [string, (url: string) => Transport][] = [
  ["connect-node gRPC over h2c", (baseUrl) => createGrpcTransport({ baseUrl })],
  ["connect-web over fetch (HTTP/1.1)", (baseUrl) => createConnectTransport({ baseUrl })],
];

for (const [name, transport] of transports) {
  describe(`interop: ${name}`, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ shortPollRate: 2 });
    });
    afterAll(async () => {
      await server.close();
    });

    it("creates a job and long-waits for it to be COMPLETED", async () => {
      const client = createClient(JobService, transport(server.url));
      const { job } = await client.createJob({ processingDuration: { nanos: 400_000_000 } });
      const reply = await client.getStatus({ jobId: job!.id, wait: { seconds: 10n }, knownVersion: 1n });
      expect(reply.job?.state).toBe(JobState.COMPLETED);
    });

    it("sees RESOURCE_EXHAUSTED with a RetryInfo detail past the rate limit", async () => {
      const client = createClient(JobService, transport(server.url));
      const { job } = await client.createJob({ processingDuration: { seconds: 30n } });
      let refusal: ConnectError | undefined;
      for (let i = 0; i < 5 && refusal === undefined; i++) {
        await client.getStatus({ jobId: job!.id }).catch((error: unknown) => {
          refusal = ConnectError.from(error);
        });
      }
      expect(refusal?.code).toBe(Code.ResourceExhausted);
      expect(refusal?.metadata.get("retry-after")).toBe("1");
      const [info] = refusal!.findDetails(RetryInfoSchema);
      expect(durationMs(info!.retryDelay!)).toBeGreaterThan(0);
    });

    it("gets INVALID_ARGUMENT for a negative processing duration", async () => {
      const client = createClient(JobService, transport(server.url));
      const error = await client.createJob({ processingDuration: { seconds: -5n } }).then(
        () => undefined,
        (caught: unknown) => ConnectError.from(caught),
      );
      expect(error?.code).toBe(Code.InvalidArgument);
    });
  });
}
