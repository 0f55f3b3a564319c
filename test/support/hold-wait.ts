// Run as a separate process by tests: starts a long wait over gRPC (HTTP/2) on the job given
// and prints "holding" once the call is sent, then waits to be killed.
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";

const [baseUrl, jobId] = process.argv.slice(2) as [string, string];
const client = createClient(JobService, createGrpcTransport({ baseUrl }));
void client.getStatus({ jobId, wait: { seconds: 20n }, knownVersion: 1n }).catch(() => undefined);
process.stdout.write("holding\n");
setInterval(() => undefined, 60_000);
