// Many jobs watched on shared WatchJobs streams, against one GetStatus long wait per job; all
// over raw gRPC on HTTP/2 (h2c). The jobs are simulated and pending for an hour; the runner ends
// a set of them at one moment through the server child's own "end" command. What arrives is
// timed on arrival and decoded afterwards, so decoding never delays an arrival; each job's
// delivery latency runs from its update_time (the server's clock, on this machine) to the
// arrival of the message that carried its end. argv[2] is the server URL.
import http2 from "node:http2";
import { performance } from "node:perf_hooks";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type Job, JobState } from "../../gen/jobs/v1/job_pb.js";
import {
  CreateJobRequestSchema,
  CreateJobResponseSchema,
  GetStatusResponseSchema,
  WatchJobsResponseSchema,
} from "../../gen/jobs/v1/job_service_pb.js";
import { serveParent } from "../serve-parent.js";
import { type Summary, summarize } from "../stats.js";
import { grpcFrame, grpcHeaders, grpcUnary } from "./grpc-unary.js";
import { type HeldWait, openH2Waits, type WaitOpener } from "./open-wait.js";
import { openWatch, type WatchStream } from "./watch-stream.js";
import { within } from "./within.js";

const url = process.argv[2] ?? "";
/** Long waits per HTTP/2 session, as in the held-waits section. */
const WAITS_PER_SESSION = 500;
/** WatchJobs streams per HTTP/2 session. */
const WATCHES_PER_SESSION = 100;
/** The most a burst of ends may take to arrive before what has not is counted as lost. */
const ARRIVAL_TIMEOUT_MS = 60_000;
const CREATE_JOB = grpcHeaders("/jobs.v1.JobService/CreateJob");

export interface CreateSpec {
  /** The name the jobs are kept under here, for the calls that follow. */
  set: string;
  count: number;
  /** CreateJob calls in flight at once. */
  inFlight: number;
}

/** How a burst of ends reached the watchers or waiters. */
export interface Delivery {
  /** Jobs whose end arrived. */
  delivered: number;
  /** Jobs whose end did not arrive, or arrived in another state than COMPLETED. */
  missing: number;
  /** Messages that carried them (one per job for long waits). */
  messages: number;
  /** From each job's update_time to the arrival of its end, in ms (update_time is whole ms: up to 1 ms high). */
  latencyMs: Summary;
  /** The earliest and latest update_time of the jobs delivered (wall clock, ms). */
  firstEndMs: number;
  lastEndMs: number;
  /** Streams or waits that ended with another status than OK. */
  failed: number;
}

const sets = new Map<string, string[]>();
/** The streams watching each set, and the sessions they use. */
const watching = new Map<string, { streams: WatchStream[]; sessions: http2.ClientHttp2Session[] }>();
/** The long waits held on each set, and their opener (its sessions). */
const waiting = new Map<string, { waits: HeldWait[]; opener: WaitOpener }>();
let control: http2.ClientHttp2Session;

function connect(): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.once("connect", () => resolve(session)).once("error", reject);
    session.on("error", () => undefined);
  });
}

async function setUp() {
  control = await connect();
}

/** Creates `count` simulated jobs pending for an hour, `inFlight` at a time; resolves with the rate (creates per second). */
async function createJobs(spec: CreateSpec) {
  const ids: string[] = new Array(spec.count);
  const frame = grpcFrame(
    toBinary(CreateJobRequestSchema, create(CreateJobRequestSchema, { processingDuration: { seconds: 3_600n } })),
  );
  let next = 0;
  const started = performance.now();
  const one = async (): Promise<void> => {
    while (next < spec.count) {
      const i = next++;
      const answer = await grpcUnary(control, CREATE_JOB, frame);
      if (answer.status !== "0") {
        throw new Error(`CreateJob answered grpc-status ${answer.status}`);
      }
      ids[i] = fromBinary(CreateJobResponseSchema, answer.message).job?.id ?? "";
    }
  };
  await Promise.all(Array.from({ length: spec.inFlight }, one));
  const elapsedMs = performance.now() - started;
  sets.set(spec.set, ids);
  return { elapsedMs, perS: (spec.count * 1000) / elapsedMs };
}

function idsOf(set: string): string[] {
  const found = sets.get(set);
  if (found === undefined) {
    throw new Error(`no jobs made as ${set}`);
  }
  return found;
}

/** Opens WatchJobs streams of `perStream` jobs each over the set (known version 1: nothing to send at once). */
async function watch(value: { set: string; perStream: number }) {
  const ids = idsOf(value.set);
  const count = Math.ceil(ids.length / value.perStream);
  const sessions = await Promise.all(Array.from({ length: Math.ceil(count / WATCHES_PER_SESSION) }, connect));
  const streams = Array.from({ length: count }, (_, i) =>
    openWatch(
      sessions[Math.floor(i / WATCHES_PER_SESSION)] as http2.ClientHttp2Session,
      ids.slice(i * value.perStream, (i + 1) * value.perStream),
      1n,
    ),
  );
  watching.set(value.set, { streams, sessions });
  return { streams: count, sessions: sessions.length };
}

/** Resets the set's watch streams and closes their sessions. */
function unwatch(value: { set: string }) {
  const watched = watching.get(value.set);
  watching.delete(value.set);
  for (const stream of watched?.streams ?? []) {
    stream.cancel();
  }
  for (const session of watched?.sessions ?? []) {
    session.destroy();
  }
}

/** One GetStatus long wait (60 s, known version 1) per job of the set, 500 per session. */
async function hold(value: { set: string }) {
  const ids = idsOf(value.set);
  const opener = await openH2Waits(url, Math.ceil(ids.length / WAITS_PER_SESSION));
  waiting.set(value.set, { waits: ids.map((id) => opener.open(id)), opener });
  return { waits: ids.length };
}

/** Closes the sessions of the set's long waits: the server sees their streams go. */
function release(value: { set: string }) {
  waiting.get(value.set)?.opener.close();
  waiting.delete(value.set);
}

/** Once every watch stream has ended (each ends when its jobs are terminal): how the set's ends arrived. */
async function watchDelivery(value: { set: string }): Promise<Delivery> {
  const streams = watching.get(value.set)?.streams ?? [];
  const statuses = await Promise.all(streams.map((stream) => within(stream.ended, ARRIVAL_TIMEOUT_MS)));
  const ended = new Map<string, End>();
  let messages = 0;
  for (const stream of streams) {
    for (const arrival of stream.arrivals) {
      messages++;
      for (const job of fromBinary(WatchJobsResponseSchema, arrival.bytes).jobs) {
        if (job.state !== JobState.PENDING && !ended.has(job.id)) {
          ended.set(job.id, endOf(job, arrival.at));
        }
      }
    }
  }
  unwatch(value);
  return delivery(idsOf(value.set), ended, messages, statuses.filter((status) => status !== "0").length);
}

/** Once every long wait has answered: how the set's ends arrived. */
async function waitDelivery(value: { set: string }): Promise<Delivery> {
  const held = waiting.get(value.set)?.waits ?? [];
  const answers = await Promise.all(held.map((wait) => within(wait.answered, ARRIVAL_TIMEOUT_MS)));
  const ended = new Map<string, End>();
  let failed = 0;
  for (const answer of answers) {
    if (answer?.ok !== true || answer.message === undefined) {
      failed++;
      continue;
    }
    const job = fromBinary(GetStatusResponseSchema, answer.message).job;
    if (job?.updateTime !== undefined) {
      ended.set(job.id, endOf(job, performance.timeOrigin + answer.at));
    }
  }
  release(value);
  return delivery(idsOf(value.set), ended, answers.length - failed, failed);
}

/** A job's end as it arrived: when, its update_time (wall clock, ms), and whether it completed. */
interface End {
  at: number;
  endMs: number;
  completed: boolean;
}

function endOf(job: Job, at: number): End {
  const endMs = job.updateTime === undefined ? Number.NaN : timestampMs(job.updateTime);
  return { at, endMs, completed: job.state === JobState.COMPLETED };
}

function delivery(ids: readonly string[], ended: Map<string, End>, messages: number, failed: number): Delivery {
  const latencies: number[] = [];
  const ends: number[] = [];
  for (const id of ids) {
    const end = ended.get(id);
    if (end?.completed === true) {
      latencies.push(end.at - end.endMs);
      ends.push(end.endMs);
    }
  }
  return {
    delivered: latencies.length,
    missing: ids.length - latencies.length,
    messages,
    latencyMs: summarize(latencies),
    firstEndMs: ends.reduce((a, b) => Math.min(a, b), Infinity),
    lastEndMs: ends.reduce((a, b) => Math.max(a, b), -Infinity),
    failed,
  };
}

serveParent(
  {
    setUp,
    createJobs,
    watch,
    unwatch,
    hold,
    release,
    watchDelivery,
    waitDelivery,
    ids: (value: { set: string }) => idsOf(value.set),
    close: () => {
      for (const set of watching.keys()) {
        unwatch({ set });
      }
      for (const set of waiting.keys()) {
        release({ set });
      }
      control.close();
    },
  },
  {},
);
