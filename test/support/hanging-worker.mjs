// A worker process that claims one job of KIND from URL, says so on stdout ("claimed <id>"),
// and keeps its lease alive with heartbeats without ever ending the job: the worker a test kills
// with SIGKILL mid-job. Plain Node over the compiled generated code (npm test builds jobs/dist/).
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { WorkerService } from "../../jobs/dist/gen/jobs/v1/worker_service_pb.js";

const [url, kind] = process.argv.slice(2);
const worker = createClient(WorkerService, createConnectTransport({ baseUrl: url }));
const claim = await worker.claimJob({ kinds: [kind], wait: { seconds: 20n }, leaseDuration: { seconds: 2n } });
if (claim.job === undefined) {
  console.log("no job");
  process.exit(1);
}
console.log(`claimed ${claim.job.id}`);
for (;;) {
  await new Promise((resolve) => setTimeout(resolve, 300));
  await worker.heartbeat({ jobId: claim.job.id, leaseToken: claim.leaseToken, progress: { fraction: 0.5, message: "busy" } });
}
