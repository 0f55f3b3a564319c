import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  CancelJobRequestSchema,
  CreateJobRequestSchema,
  CreateJobResponseSchema,
  GetStatusRequestSchema,
} from "../../gen/jobs/v1/job_service_pb.js";
import { grpcFrame, grpcHeaders, grpcUnary } from "./grpc-unary.js";

/** Creates and cancels jobs over raw gRPC on one HTTP/2 session of its own (the load process's control line). */
export interface JobCalls {
  /** Creates a job that stays pending for an hour; resolves with its id. */
  createPendingJob(): Promise<string>;
  /** Cancels the job; resolves once the cancel is answered. */
  cancelJob(jobId: string): Promise<void>;
  close(): void;
}

/** Opens the control session to `url`. */
export async function openJobCalls(url: string): Promise<JobCalls> {
  const session = http2.connect(url);
  await new Promise((resolve, reject) => session.once("connect", resolve).once("error", reject));
  return {
    async createPendingJob() {
      const request = create(CreateJobRequestSchema, { processingDuration: { seconds: 3600n } });
      const answer = await grpcUnary(
        session,
        grpcHeaders("/jobs.v1.JobService/CreateJob"),
        grpcFrame(toBinary(CreateJobRequestSchema, request)),
      );
      if (answer.status !== "0") {
        throw new Error(`CreateJob answered grpc-status ${answer.status}`);
      }
      return fromBinary(CreateJobResponseSchema, answer.message).job?.id ?? "";
    },
    async cancelJob(jobId) {
      const request = create(CancelJobRequestSchema, { jobId });
      const answer = await grpcUnary(
        session,
        grpcHeaders("/jobs.v1.JobService/CancelJob"),
        grpcFrame(toBinary(CancelJobRequestSchema, request)),
      );
      if (answer.status !== "0") {
        throw new Error(`CancelJob answered grpc-status ${answer.status}`);
      }
    },
    close: () => session.close(),
  };
}

/** A long wait's GetStatusRequest (wait 60 s from version 1) as a gRPC frame. */
export function longWaitFrame(jobId: string): Buffer {
  const request = create(GetStatusRequestSchema, { jobId, wait: { seconds: 60n }, knownVersion: 1n });
  return grpcFrame(toBinary(GetStatusRequestSchema, request));
}

/** The same long wait as a Connect JSON body. */
export function longWaitJson(jobId: string): string {
  return JSON.stringify({ jobId, wait: "60s", knownVersion: "1" });
}
