import type { AddressInfo } from "node:net";
import {
  create,
  type DescMessage,
  fromBinary,
  fromJson,
  type MessageInitShape,
  toBinary,
  toJson,
  toJsonString,
} from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { CreateJobRequestSchema, CreateJobResponseSchema, JobService } from "../../gen/jobs/v1/job_service_pb.js";
import {
  ClaimJobRequestSchema,
  ClaimJobResponseSchema,
  CompleteJobRequestSchema,
  CompleteJobResponseSchema,
  WorkerService,
} from "../../gen/jobs/v1/worker_service_pb.js";
import { buildServer } from "../../server/app.js";
import type { ServerOptions } from "../../server/server-options.js";
import { newJobId } from "../../server/service/job-id.js";
import { type RunningServer, rawClient } from "../support/start-server.js";
import { type Channel, channelName, channels, codeOf, type Protocol } from "../support/wire/get-status-channels.js";
import { grpcFrame, type RawAnswer } from "../support/wire/raw-http.js";
import { createWirePool, type WirePool } from "../support/wire/wire-pool.js";

// CreateJob, ClaimJob and CompleteJob answer the same through the lean path as through Connect's
// router (as lean-get-status.test.ts shows of GetStatus), over every way users send them: each
// test starts a server with the lean path and one without, sends both the same calls and
// compares the whole answers. What differs by nature (job ids, times, lease tokens, and the
// Content-Length that follows from them) is masked before the comparison.

const CALLER_KEY = "lean-caller-key-0123456789";
const WORKER_KEY = "lean-worker-key-0123456789";
const KIND = "lean.echo";

const paths = {
  createJob: `/${JobService.typeName}/CreateJob`,
  claimJob: `/${WorkerService.typeName}/ClaimJob`,
  completeJob: `/${WorkerService.typeName}/CompleteJob`,
} as const;
type Path = (typeof paths)[keyof typeof paths];

const contentTypes: Record<Protocol, Record<string, string>> = {
  json: { "content-type": "application/json" },
  proto: { "content-type": "application/proto" },
  grpc: { "content-type": "application/grpc", te: "trailers" },
};

/** A server, and how many calls to the three paths reached Fastify (the router) on it. */
interface Counted extends RunningServer {
  routed: number;
}

async function startCounted(options: ServerOptions): Promise<Counted> {
  const app = buildServer({ createRate: 0, shortPollRate: 0, apiKeys: [CALLER_KEY], workerKeys: [WORKER_KEY], ...options });
  const lean = Object.values(paths) as string[];
  const server = { routed: 0 } as Counted;
  app.addHook("onRequest", async (request) => {
    server.routed += lean.includes(request.url) ? 1 : 0;
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address() as AddressInfo;
  return Object.assign(server, { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() });
}

/** One test's two servers, its channel, and how it sends to each. */
interface Call {
  channel: Channel;
  /** Sends a message of `schema` to `path` on both servers, the lean one first. */
  both<Desc extends DescMessage>(
    path: Path,
    schema: Desc,
    init: MessageInitShape<Desc>,
    key?: string,
  ): Promise<[RawAnswer, RawAnswer]>;
  /** Sends raw bytes (the body as given) to `path` on both. */
  bothRaw(path: Path, body: Uint8Array, key?: string): Promise<[RawAnswer, RawAnswer]>;
  lean: Counted;
  routed: Counted;
}

interface Behaviour {
  name: string;
  /** The code the router answers with (undefined: OK). */
  code: Code | undefined;
  /** The schema of the answer, for masking what differs by nature; none for answers that differ in nothing. */
  answer?: DescMessage;
  exchange(call: Call): Promise<[RawAnswer, RawAnswer]>;
}

/** Creates a job of KIND on each server (by the caller's key), and claims it there over the call's channel. */
async function claimed(call: Call): Promise<[RawAnswer, RawAnswer]> {
  for (const server of [call.lean, call.routed]) {
    await rawClient(server.url, CALLER_KEY).createJob({ kind: KIND, input: { kind: { case: "stringValue", value: "hi" } } });
  }
  return call.both(paths.claimJob, ClaimJobRequestSchema, { kinds: [KIND], workerId: "lean-test" }, WORKER_KEY);
}

const behaviours: Behaviour[] = [
  {
    name: "creates a simulated job",
    code: undefined,
    answer: CreateJobResponseSchema,
    exchange: (call) => call.both(paths.createJob, CreateJobRequestSchema, { processingDuration: { seconds: 60n } }),
  },
  {
    name: "creates a job of a kind, with its input and attempts",
    code: undefined,
    answer: CreateJobResponseSchema,
    exchange: (call) =>
      call.both(paths.createJob, CreateJobRequestSchema, {
        kind: KIND,
        maxAttempts: 3,
        input: { kind: { case: "numberValue", value: 42 } },
      }),
  },
  {
    name: "holds a create with a wait until the job's end",
    code: undefined,
    answer: CreateJobResponseSchema,
    async exchange(call) {
      const answers = await call.both(paths.createJob, CreateJobRequestSchema, {
        processingDuration: { nanos: 1_000_000 },
        wait: { seconds: 30n },
      });
      // Both held it: an answer at once would be the PENDING job, the same from both.
      for (const answer of answers) {
        expect(createdState(answer, call.channel.protocol)).toBe(JobState.COMPLETED);
      }
      return answers;
    },
  },
  {
    name: "refuses a negative wait on CreateJob with INVALID_ARGUMENT",
    code: Code.InvalidArgument,
    exchange: (call) =>
      call.both(paths.createJob, CreateJobRequestSchema, { processingDuration: { seconds: 1n }, wait: { seconds: -1n } }),
  },
  {
    name: "refuses a negative processing_duration with INVALID_ARGUMENT",
    code: Code.InvalidArgument,
    exchange: (call) => call.both(paths.createJob, CreateJobRequestSchema, { processingDuration: { seconds: -1n } }),
  },
  {
    name: "refuses a body that is no CreateJobRequest with INVALID_ARGUMENT",
    code: Code.InvalidArgument,
    exchange: (call) => call.bothRaw(paths.createJob, new Uint8Array([0xff, 0xff, 0xff])),
  },
  {
    name: "refuses a worker key on CreateJob with PERMISSION_DENIED",
    code: Code.PermissionDenied,
    exchange: (call) => call.both(paths.createJob, CreateJobRequestSchema, {}, WORKER_KEY),
  },
  {
    name: "refuses a call without a key with UNAUTHENTICATED",
    code: Code.Unauthenticated,
    exchange: (call) => call.both(paths.createJob, CreateJobRequestSchema, {}, ""),
  },
  {
    name: "answers a claim with nothing waiting and no wait with no job",
    code: undefined,
    exchange: (call) => call.both(paths.claimJob, ClaimJobRequestSchema, { kinds: ["lean.none"] }, WORKER_KEY),
  },
  {
    name: "claims a waiting job of a kind",
    code: undefined,
    answer: ClaimJobResponseSchema,
    exchange: claimed,
  },
  {
    name: "refuses a claim without kinds with INVALID_ARGUMENT",
    code: Code.InvalidArgument,
    exchange: (call) => call.both(paths.claimJob, ClaimJobRequestSchema, {}, WORKER_KEY),
  },
  {
    name: "refuses a caller's key on ClaimJob with PERMISSION_DENIED",
    code: Code.PermissionDenied,
    exchange: (call) => call.both(paths.claimJob, ClaimJobRequestSchema, { kinds: [KIND] }, CALLER_KEY),
  },
  {
    name: "completes a claimed job with its result",
    code: undefined,
    answer: CompleteJobResponseSchema,
    async exchange(call) {
      const [lean, routed] = (await claimed(call)).map((answer) => claimOf(answer, call.channel.protocol)) as [Claim, Claim];
      const complete = (server: Counted, claim: Claim) =>
        send(
          pool,
          server,
          call.channel,
          paths.completeJob,
          encode(call.channel.protocol, CompleteJobRequestSchema, {
            ...claim,
            result: { kind: { case: "boolValue", value: true } },
          }),
          WORKER_KEY,
        );
      return Promise.all([complete(call.lean, lean), complete(call.routed, routed)]);
    },
  },
  {
    name: "refuses a CompleteJob of no such job with NOT_FOUND",
    code: Code.NotFound,
    exchange: (call) =>
      call.both(paths.completeJob, CompleteJobRequestSchema, { jobId: UNKNOWN_JOB, leaseToken: "token.30000" }, WORKER_KEY),
  },
  {
    name: "refuses a CompleteJob without a lease token with INVALID_ARGUMENT",
    code: Code.InvalidArgument,
    exchange: (call) => call.both(paths.completeJob, CompleteJobRequestSchema, { jobId: UNKNOWN_JOB }, WORKER_KEY),
  },
];

const UNKNOWN_JOB = newJobId();
let pool: WirePool;

function encode<Desc extends DescMessage>(protocol: Protocol, schema: Desc, init: MessageInitShape<Desc>): Uint8Array {
  const message = create(schema, init);
  if (protocol === "json") {
    return new TextEncoder().encode(toJsonString(schema, message));
  }
  const bytes = toBinary(schema, message);
  return protocol === "grpc" ? grpcFrame(bytes) : bytes;
}

function send(pool: WirePool, server: RunningServer, channel: Channel, path: Path, body: Uint8Array, key = CALLER_KEY) {
  const auth: Record<string, string> = key === "" ? {} : { authorization: `Bearer ${key}` };
  return pool.send({
    url: server.url,
    path,
    httpVersion: channel.httpVersion,
    headers: { ...contentTypes[channel.protocol], ...auth },
    body,
    declareLength: channel.declareLength,
  });
}

/** The message bytes of an answer: the body, or the one gRPC frame in it. */
function messageBytes(answer: RawAnswer, protocol: Protocol): Uint8Array {
  return protocol === "grpc" ? answer.body.subarray(5) : answer.body;
}

/** The state of the job a CreateJob answered with. */
function createdState(answer: RawAnswer, protocol: Protocol): JobState | undefined {
  const bytes = messageBytes(answer, protocol);
  const message =
    protocol === "json"
      ? fromJson(CreateJobResponseSchema, JSON.parse(Buffer.from(bytes).toString("utf8")))
      : fromBinary(CreateJobResponseSchema, bytes);
  return message.job?.state;
}

/** What a CompleteJob names of its claim. */
interface Claim {
  jobId: string;
  leaseToken: string;
}

function claimOf(answer: RawAnswer, protocol: Protocol): Claim {
  const claim =
    protocol === "json"
      ? (JSON.parse(answer.body.toString("utf8")) as { job?: { id: string }; leaseToken: string })
      : fromBinary(ClaimJobResponseSchema, messageBytes(answer, protocol));
  return { jobId: claim.job?.id ?? "", leaseToken: claim.leaseToken };
}

/** What differs between two servers by nature: ids, times and lease tokens. */
const MASKED = new Set([
  "id",
  "createTime",
  "updateTime",
  "estimatedCompletionTime",
  "startTime",
  "leaseToken",
  "leaseExpireTime",
]);

function masked(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(masked);
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, MASKED.has(key) ? "*" : masked(inner)]));
  }
  return value;
}

/** What is compared: the whole answer but its date (and, for answers masked, its body's length), the body decoded and masked. */
function comparable(answer: RawAnswer, protocol: Protocol, schema: DescMessage | undefined) {
  const { date: _date, "content-length": length, ...headers } = answer.headers;
  if (schema === undefined || answer.status !== 200 || (protocol === "grpc" && answer.body.length === 0)) {
    return { ...answer, headers: { ...headers, "content-length": length }, body: answer.body.toString("base64") };
  }
  const bytes = messageBytes(answer, protocol);
  const json = protocol === "json" ? JSON.parse(Buffer.from(bytes).toString("utf8")) : toJson(schema, fromBinary(schema, bytes));
  return { ...answer, headers, body: masked(json) };
}

describe("the lean path for CreateJob, ClaimJob and CompleteJob", () => {
  let servers: Counted[] = [];
  afterEach(async () => {
    await pool?.close();
    await Promise.all(servers.map((server) => server.close()));
    servers = [];
  });

  for (const behaviour of behaviours) {
    for (const channel of channels) {
      it(`${behaviour.name} as the router does (${channelName(channel)})`, async () => {
        const [lean, routed] = await Promise.all([startCounted({}), startCounted({ leanPath: false })]);
        servers = [lean, routed];
        pool = createWirePool();
        const call: Call = {
          channel,
          lean,
          routed,
          bothRaw: (path, body, key) =>
            Promise.all([send(pool, lean, channel, path, body, key), send(pool, routed, channel, path, body, key)]),
          both: (path, schema, init, key) => call.bothRaw(path, encode(channel.protocol, schema, init), key),
        };
        const [fromLean, fromRouter] = await behaviour.exchange(call);
        expect(codeOf(fromRouter, channel.protocol)).toBe(behaviour.code);
        expect(comparable(fromLean, channel.protocol, behaviour.answer)).toEqual(
          comparable(fromRouter, channel.protocol, behaviour.answer),
        );
        // One answer from each path: none of the lean server's calls reached the router.
        expect(lean.routed).toBe(0);
        expect(routed.routed).toBeGreaterThan(0);
      });
    }
  }
});
