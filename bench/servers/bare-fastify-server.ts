// Baseline for Connect JSON: a bare Fastify 5 app with one POST route that answers GetStatus
// with the same job, as the same JSON (toJsonString of the same GetStatusResponse), built per
// call as our handler builds it. argv[2] is that GetStatusResponse, binary, in base64.
import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import fastify from "fastify";
import { GetStatusResponseSchema } from "../../gen/jobs/v1/job_service_pb.js";
import { serveParent } from "../serve-parent.js";

const response = fromBinary(GetStatusResponseSchema, Buffer.from(process.argv[2] ?? "", "base64"));
const responses = new Map([[response.job?.id ?? "", response]]);

const app = fastify({ logger: false });
app.post<{ Body: { jobId?: string } }>("/jobs.v1.JobService/GetStatus", async (request, reply) => {
  const found = responses.get(request.body.jobId ?? "");
  if (found === undefined) {
    return reply.code(404).type("application/json").send('{"code":"not_found"}');
  }
  return reply.type("application/json").send(toJsonString(GetStatusResponseSchema, found));
});
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
if (address === null || typeof address === "string") {
  throw new Error("the server has no TCP address");
}
serveParent({}, { url: `http://127.0.0.1:${address.port}` });
process.once("SIGTERM", () => void app.close().finally(() => process.exit(0)));
