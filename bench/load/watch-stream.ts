import { type ClientHttp2Session, constants } from "node:http2";
import { performance } from "node:perf_hooks";
import { create, toBinary } from "@bufbuild/protobuf";
import { WatchJobsRequestSchema } from "../../gen/jobs/v1/job_service_pb.js";
import { grpcFrame, grpcHeaders } from "./grpc-unary.js";

/** A message of a stream as it arrived: the wall-clock time (ms, sub-ms) its last byte came, and its bytes. */
export interface Arrival {
  at: number;
  bytes: Buffer;
}

/** One WatchJobs call in flight, over raw gRPC. */
export interface WatchStream {
  /** Every message so far, undecoded (decoding is left for later, so it never delays an arrival). */
  arrivals: Arrival[];
  /** Resolves with the grpc-status once the stream has ended (undefined if it broke). */
  ended: Promise<string | undefined>;
  /** Resets the stream (the caller goes away). */
  cancel(): void;
}

const WATCH_JOBS = grpcHeaders("/jobs.v1.JobService/WatchJobs");

/** The wall clock with the monotonic clock's resolution: comparable with a job's update_time on this machine. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Opens WatchJobs on `jobIds`, each known at `knownVersion`, and reads its length-prefixed messages as they come. */
export function openWatch(session: ClientHttp2Session, jobIds: readonly string[], knownVersion: bigint): WatchStream {
  const request = create(WatchJobsRequestSchema, { jobIds: [...jobIds], knownVersions: jobIds.map(() => knownVersion) });
  const stream = session.request(WATCH_JOBS);
  const arrivals: Arrival[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let status: string | undefined;
  stream.on("data", (chunk: Buffer) => {
    const at = wallClockMs();
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const end = 5 + pending.readUInt32BE(1);
      if (pending.length < end) {
        break;
      }
      arrivals.push({ at, bytes: pending.subarray(5, end) });
      pending = pending.subarray(end);
    }
  });
  stream.on("response", (head) => {
    status = (head["grpc-status"] as string | undefined) ?? status;
  });
  stream.on("trailers", (trailers) => {
    status = (trailers["grpc-status"] as string | undefined) ?? status;
  });
  stream.on("error", () => undefined);
  const ended = new Promise<string | undefined>((resolve) => stream.once("close", () => resolve(status)));
  stream.end(grpcFrame(toBinary(WatchJobsRequestSchema, request)));
  return { arrivals, ended, cancel: () => stream.close(constants.NGHTTP2_CANCEL) };
}
