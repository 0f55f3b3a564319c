import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { type Job, JobSchema } from "../../gen/jobs/v1/job_pb.js";
import { GetStatusRequestSchema, GetStatusResponseSchema, JobService } from "../../gen/jobs/v1/job_service_pb.js";
import type { BenchOptions } from "../bench-options.js";
import { type BenchChild, startChild } from "../child-process.js";
import type { Figure } from "../figure.js";
import { grpcFrame } from "../load/grpc-unary.js";
import { cpuTimeUs, machineBusyUs } from "../proc-stats.js";
import { startJobServer } from "../start-job-server.js";
import { median, type Summary } from "../stats.js";

/** One load run against one server, as the load child reports it, plus CPU read from /proc. */
export interface UnaryRun {
  ok: number;
  failed: number;
  elapsedMs: number;
  rps: number;
  latencyMs: Summary;
  serverCpuUsPerCall: number;
  /** CPU used over the run's wall time: 1 = one core busy the whole time. */
  serverCpuShare: number;
  loadCpuShare: number;
  /** CPU used by every other process on the machine over the run, in cores: noise. */
  otherCpuShare: number;
  sample?: Uint8Array;
}

interface Variant {
  id: string;
  server: BenchChild;
  load: BenchChild;
  spec: (seconds: number) => Record<string, unknown>;
}

const GET_STATUS = "/jobs.v1.JobService/GetStatus";
/** A load generator busier than this share of a core is taken to limit the run. */
const LOAD_BOUND_SHARE = 0.9;
/** CPU taken by other processes during a round, in cores, past which the run says it was disturbed. */
const OTHER_BUSY_SHARE = 0.25;

/**
 * Unary GetStatus of one pending job under load, ours against a bare Fastify route (Connect
 * JSON) and @grpc/grpc-js (gRPC over h2c), in alternating rounds; figures are medians.
 */
export async function benchUnary(options: BenchOptions["unary"], notes: string[]) {
  const started: BenchChild[] = [];
  const start = async (starting: Promise<BenchChild>): Promise<BenchChild> => {
    const child = await starting;
    started.push(child);
    return child;
  };
  try {
    const ours = await start(startJobServer({ shortPollRate: 0, createRate: 0 }));
    const url = ours.ready.url as string;
    const client = createClient(JobService, createConnectTransport({ baseUrl: url }));
    const { job } = await client.createJob({ processingDuration: { seconds: 3600n } });
    const jobId = job?.id ?? "";
    const status = await client.getStatus({ jobId });
    const response = Buffer.from(toBinary(GetStatusResponseSchema, status)).toString("base64");
    // Started side by side: they are idle until their rounds.
    const [bare, grpcJs, h1, h2] = (await Promise.all([
      start(startChild("bench/servers/bare-fastify-server.ts", { args: [response] })),
      start(startChild("bench/servers/grpc-js-server.ts", { args: [response] })),
      start(startChild("bench/load/http1-load.ts")),
      start(startChild("bench/load/h2c-load.ts")),
    ])) as [BenchChild, BenchChild, BenchChild, BenchChild];
    await checkSameJson(url, bare.ready.url as string, jobId, notes);

    const binary = toBinary(GetStatusRequestSchema, create(GetStatusRequestSchema, { jobId }));
    const h1Spec = (base: string, contentType: string, body: Uint8Array) => (seconds: number) => ({
      url: base + GET_STATUS,
      connections: options.connections,
      durationS: seconds,
      headers: { "content-type": contentType, "connect-protocol-version": "1" },
      body,
    });
    const h2Spec = (base: string) => (seconds: number) => ({
      url: base,
      path: GET_STATUS,
      sessions: options.h2Sessions,
      streamsPerSession: options.connections / options.h2Sessions,
      durationMs: seconds * 1000,
      frame: grpcFrame(binary),
    });
    const json = new TextEncoder().encode(JSON.stringify({ jobId }));
    const variants: Variant[] = [
      { id: "connect-json-ours", server: ours, load: h1, spec: h1Spec(url, "application/json", json) },
      {
        id: "connect-json-bare-fastify",
        server: bare,
        load: h1,
        spec: h1Spec(bare.ready.url as string, "application/json", json),
      },
      { id: "connect-binary-ours", server: ours, load: h1, spec: h1Spec(url, "application/proto", binary) },
      { id: "grpc-ours", server: ours, load: h2, spec: h2Spec(url) },
      { id: "grpc-grpc-js", server: grpcJs, load: h2, spec: h2Spec(grpcJs.ready.url as string) },
    ];

    for (const variant of variants) {
      const warmup = await measure(variant, options.warmupS);
      if (variant.load === h2) {
        checkSameJob(variant.id, warmup.sample, status.job, notes);
      }
    }
    const runs = new Map<string, UnaryRun[]>(variants.map((variant) => [variant.id, []]));
    // Rounds alternate: every variant once per round, in the same order, so drift hits all alike.
    for (let round = 0; round < options.rounds; round++) {
      for (const variant of variants) {
        const run = await measure(variant, options.roundS);
        delete run.sample;
        runs.get(variant.id)?.push(run);
        if (run.failed > 0) {
          notes.push(`unary ${variant.id} round ${round + 1}: ${run.failed} failed calls`);
        }
      }
    }
    noteSaturation(runs, notes);
    return { figures: unaryFigures(runs), raw: Object.fromEntries(runs) };
  } finally {
    await Promise.all(started.map((child) => child.stop()));
  }
}

async function measure(variant: Variant, seconds: number): Promise<UnaryRun> {
  const server0 = cpuTimeUs(variant.server.pid);
  const load0 = cpuTimeUs(variant.load.pid);
  const busy0 = machineBusyUs();
  const result = await variant.load.request<Omit<UnaryRun, "serverCpuUsPerCall" | "serverCpuShare" | "loadCpuShare">>(
    "run",
    variant.spec(seconds),
    seconds * 1000 + 30_000,
  );
  const serverUs = cpuTimeUs(variant.server.pid) - server0;
  const loadUs = cpuTimeUs(variant.load.pid) - load0;
  const otherUs = machineBusyUs() - busy0 - serverUs - loadUs;
  return {
    ...result,
    serverCpuUsPerCall: serverUs / Math.max(1, result.ok + result.failed),
    serverCpuShare: serverUs / (result.elapsedMs * 1000),
    loadCpuShare: loadUs / (result.elapsedMs * 1000),
    otherCpuShare: Math.max(0, otherUs) / (result.elapsedMs * 1000),
  };
}

function unaryFigures(runs: Map<string, UnaryRun[]>): Figure[] {
  const of = (id: string, pick: (run: UnaryRun) => number) => median((runs.get(id) ?? []).map(pick));
  const rows = (label: string, id: string, peerId?: string, peerName?: string): Figure[] => {
    const metric = (name: string, unit: string, pick: (run: UnaryRun) => number, higherIsBetter?: boolean): Figure => ({
      section: "unary GetStatus",
      name: `${label}: ${name}`,
      unit,
      ours: of(id, pick),
      peer: peerId === undefined ? undefined : { name: peerName ?? peerId, value: of(peerId, pick) },
      higherIsBetter,
    });
    return [
      metric("throughput", "req/s", (run) => run.rps, true),
      metric("latency p50", "ms", (run) => run.latencyMs.p50),
      metric("latency p99", "ms", (run) => run.latencyMs.p99),
      metric("server CPU", "µs/call", (run) => run.serverCpuUsPerCall),
    ];
  };
  return [
    ...rows("Connect JSON, HTTP/1.1", "connect-json-ours", "connect-json-bare-fastify", "bare Fastify"),
    ...rows("Connect binary, HTTP/1.1", "connect-binary-ours"),
    ...rows("gRPC, h2c", "grpc-ours", "grpc-grpc-js", "grpc-js"),
  ];
}

/**
 * Notes variants whose load generator was near a full core: their throughput is then a floor of
 * what the server can do, and a server under less load batches less, so its CPU per call is higher.
 */
function noteSaturation(runs: Map<string, UnaryRun[]>, notes: string[]): void {
  const other = [...runs.values()].flat().map((run) => run.otherCpuShare);
  if (Math.max(...other) >= OTHER_BUSY_SHARE) {
    notes.push(
      `unary: other processes on the machine were busy during the rounds (median ${(median(other) * 100).toFixed(0)}% of a core, at most ${(Math.max(...other) * 100).toFixed(0)}%); the rounds disagree more than usual (see otherCpuShare in the JSON)`,
    );
  }
  for (const [id, list] of runs) {
    const load = median(list.map((run) => run.loadCpuShare));
    const server = median(list.map((run) => run.serverCpuShare));
    if (load >= LOAD_BOUND_SHARE) {
      notes.push(
        `unary ${id}: the load generator was the bottleneck (median ${(load * 100).toFixed(0)}% of a core, server ${(server * 100).toFixed(0)}%); read its throughput as a floor`,
      );
    }
  }
}

/** Notes a difference between our JSON answer and the bare Fastify one (they should be the same job). */
async function checkSameJson(ours: string, bare: string, jobId: string, notes: string[]): Promise<void> {
  const post = async (base: string) => {
    const response = await fetch(base + GET_STATUS, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobId }),
    });
    return JSON.stringify(((await response.json()) as { job?: unknown }).job);
  };
  if ((await post(ours)) !== (await post(bare))) {
    notes.push("unary: the bare Fastify baseline answers a different job JSON from ours");
  }
}

/** Notes a gRPC answer that is not the job ours answered (a baseline must serve the same job). */
function checkSameJob(id: string, sample: Uint8Array | undefined, expected: Job | undefined, notes: string[]): void {
  const got = sample === undefined ? undefined : fromBinary(GetStatusResponseSchema, sample).job;
  if (got === undefined || expected === undefined || !equals(JobSchema, got, expected)) {
    notes.push(`unary ${id}: the gRPC answer is not the same job as ours`);
  }
}
