// Baseline for gRPC: @grpc/grpc-js serving GetStatus from proto/jobs/v1/job_service.proto
// (loaded at run time by @grpc/proto-loader) with the same job. argv[2] is that
// GetStatusResponse, binary, in base64; it is decoded once with the loaded method's own
// deserializer, and grpc-js serializes it again on every call.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { serveParent } from "../serve-parent.js";

interface GetStatusRequestObject {
  jobId: string;
}
type ResponseObject = { job?: { id?: string } };

const definition = protoLoader.loadSync("jobs/v1/job_service.proto", {
  includeDirs: ["proto"],
  longs: String,
  enums: String,
  defaults: true,
});
const jobs = grpc.loadPackageDefinition(definition).jobs as { v1: { JobService: grpc.ServiceClientConstructor } };
const service = jobs.v1.JobService.service;
const method = service.GetStatus as grpc.MethodDefinition<GetStatusRequestObject, ResponseObject>;
const response = method.responseDeserialize(Buffer.from(process.argv[2] ?? "", "base64"));
const responses = new Map([[response.job?.id ?? "", response]]);

const server = new grpc.Server();
server.addService(service, {
  GetStatus: (
    call: grpc.ServerUnaryCall<GetStatusRequestObject, ResponseObject>,
    callback: grpc.sendUnaryData<ResponseObject>,
  ) => {
    const found = responses.get(call.request.jobId);
    if (found === undefined) {
      callback({ code: grpc.status.NOT_FOUND, details: `job ${call.request.jobId} not found` });
      return;
    }
    callback(null, found);
  },
});
const port = await new Promise<number>((resolve, reject) => {
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
    error === null ? resolve(bound) : reject(error),
  );
});
serveParent({}, { url: `http://127.0.0.1:${port}` });
process.once("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
