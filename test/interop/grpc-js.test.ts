import { fromBinary } from "@bufbuild/protobuf";
import { anyUnpack, durationMs } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { type RunningServer, startServer } from "../support/start-server.js";

// An independent gRPC client (@grpc/grpc-js, with the contract loaded from proto/ at run time)
// against our server over HTTP/2 cleartext.

type Callback<T> = (error: grpc.ServiceError | null, reply: T) => void;
interface JobJson {
  id: string;
  state: string;
  version: string;
}
interface JobServiceClient extends grpc.Client {
  createJob(request: object, callback: Callback<{ job: JobJson }>): void;
  createJob(request: object, options: grpc.CallOptions, callback: Callback<{ job: JobJson }>): void;
  getStatus(request: object, options: grpc.CallOptions, callback: Callback<{ job: JobJson }>): void;
  watchJob(request: object): grpc.ClientReadableStream<{ job: JobJson }>;
}

function loadClient(address: string): JobServiceClient {
  const definition = protoLoader.loadSync("jobs/v1/job_service.proto", {
    includeDirs: ["proto"],
    longs: String,
    enums: String,
    defaults: true,
  });
  const jobs = grpc.loadPackageDefinition(definition).jobs as { v1: { JobService: grpc.ServiceClientConstructor } };
  return new jobs.v1.JobService(address, grpc.credentials.createInsecure()) as unknown as JobServiceClient;
}

function call<T>(start: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, reply) => (error === null ? resolve(reply) : reject(error))));
}

describe("interop: @grpc/grpc-js", () => {
  let server: RunningServer;
  let client: JobServiceClient;
  beforeAll(async () => {
    server = await startServer({ shortPollRate: 2 });
    client = loadClient(new URL(server.url).host);
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it("creates a job and long-waits for it to be COMPLETED", async () => {
    const { job } = await call<{ job: JobJson }>((cb) => client.createJob({ processingDuration: { nanos: 400_000_000 } }, cb));
    expect(job.state).toBe("JOB_STATE_PENDING");
    const reply = await call<{ job: JobJson }>((cb) =>
      client.getStatus({ jobId: job.id, wait: { seconds: 10 }, knownVersion: job.version }, { deadline: Date.now() + 5_000 }, cb),
    );
    expect(reply.job.state).toBe("JOB_STATE_COMPLETED");
    expect(reply.job.version).toBe("2");
  });

  it("creates a job with a wait and is answered once it is COMPLETED, in one call", async () => {
    const { job } = await call<{ job: JobJson }>((cb) =>
      client.createJob(
        { processingDuration: { nanos: 300_000_000 }, wait: { seconds: 10 } },
        { deadline: Date.now() + 5_000 },
        cb,
      ),
    );
    expect(job.state).toBe("JOB_STATE_COMPLETED");
    expect(job.version).toBe("2");
  });

  it("streams WatchJob to the terminal state", async () => {
    const { job } = await call<{ job: JobJson }>((cb) => client.createJob({ processingDuration: { nanos: 300_000_000 } }, cb));
    const states: string[] = [];
    for await (const update of client.watchJob({ jobId: job.id }) as AsyncIterable<{ job: JobJson }>) {
      states.push(update.job.state);
    }
    expect(states).toEqual(["JOB_STATE_PENDING", "JOB_STATE_COMPLETED"]);
  });

  it("sees RESOURCE_EXHAUSTED with a RetryInfo detail and retry-after past the rate limit", async () => {
    const { job } = await call<{ job: JobJson }>((cb) => client.createJob({ processingDuration: { seconds: 30 } }, cb));
    let refusal: grpc.ServiceError | undefined;
    for (let i = 0; i < 5 && refusal === undefined; i++) {
      await call((cb) => client.getStatus({ jobId: job.id }, {}, cb)).catch((error: grpc.ServiceError) => {
        refusal = error;
      });
    }
    expect(refusal?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refusal?.metadata.get("retry-after")).toEqual(["1"]);
    const [details] = refusal!.metadata.get("grpc-status-details-bin") as Buffer[];
    const status = fromBinary(StatusSchema, details!);
    expect(status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const info = anyUnpack(status.details[0]!, RetryInfoSchema);
    expect(durationMs(info!.retryDelay!)).toBeGreaterThan(0);
  });

  it("gets INVALID_ARGUMENT for a malformed id and NOT_FOUND for an unknown one", async () => {
    const malformed = await call((cb) => client.getStatus({ jobId: "x" }, {}, cb)).catch((error: grpc.ServiceError) => error);
    expect((malformed as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    const unknown = await call((cb) => client.getStatus({ jobId: "AAAAAAAAAAAAAAAAAAAAAA", wait: { seconds: 1 } }, {}, cb)).catch(
      (error: grpc.ServiceError) => error,
    );
    expect((unknown as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
  });
});

interface WorkerServiceClient extends grpc.Client {
  claimJob(request: object, options: grpc.CallOptions, callback: Callback<{ job: WorkJobJson | null; leaseToken: string }>): void;
  heartbeat(request: object, callback: Callback<{ cancelRequested: boolean }>): void;
  completeJob(request: object, callback: Callback<{ job: WorkJobJson }>): void;
}
interface WorkJobJson extends JobJson {
  kind: string;
  attempt: number;
  input: unknown;
  result: unknown;
}

describe("interop: a worker on @grpc/grpc-js stubs of worker_service.proto", () => {
  let server: RunningServer;
  let worker: WorkerServiceClient;
  let jobs: JobServiceClient;
  beforeAll(async () => {
    server = await startServer();
    const definition = protoLoader.loadSync("jobs/v1/worker_service.proto", {
      includeDirs: ["proto"],
      longs: String,
      enums: String,
      defaults: true,
    });
    const v1 = (grpc.loadPackageDefinition(definition).jobs as { v1: { WorkerService: grpc.ServiceClientConstructor } }).v1;
    const address = new URL(server.url).host;
    worker = new v1.WorkerService(address, grpc.credentials.createInsecure()) as unknown as WorkerServiceClient;
    jobs = loadClient(address);
  });
  afterAll(async () => {
    worker.close();
    jobs.close();
    await server.close();
  });

  it("claims a job in a held call, reports progress, and completes it with a JSON result", async () => {
    const claiming = call<{ job: WorkJobJson | null; leaseToken: string }>((cb) =>
      worker.claimJob({ kinds: ["grpc-js"], wait: { seconds: 20 } }, { deadline: Date.now() + 10_000 }, cb),
    );
    const { job } = await call<{ job: JobJson }>((cb) =>
      jobs.createJob({ kind: "grpc-js", input: { structValue: { fields: { n: { numberValue: 7 } } } } }, cb),
    );
    const claim = await claiming;
    expect(claim.job).toMatchObject({ id: job.id, kind: "grpc-js", attempt: 1 });
    const beat = await call<{ cancelRequested: boolean }>((cb) =>
      worker.heartbeat({ jobId: job.id, leaseToken: claim.leaseToken, progress: { fraction: 0.5, message: "half" } }, cb),
    );
    expect(beat.cancelRequested).toBe(false);
    const done = await call<{ job: WorkJobJson }>((cb) =>
      worker.completeJob({ jobId: job.id, leaseToken: claim.leaseToken, result: { stringValue: "seven" } }, cb),
    );
    expect(done.job.state).toBe("JOB_STATE_COMPLETED");
    expect(done.job.result).toMatchObject({ stringValue: "seven" });
  });

  it("answers a claim without a job, before a short deadline, when none comes", async () => {
    const claim = await call<{ job: WorkJobJson | null; leaseToken: string }>((cb) =>
      worker.claimJob({ kinds: ["grpc-js-idle"], wait: { seconds: 20 } }, { deadline: Date.now() + 1_000 }, cb),
    );
    expect(claim.job).toBeNull();
    expect(claim.leaseToken).toBe("");
  });
});
