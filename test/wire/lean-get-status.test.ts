import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { type Job, JobSchema, JobState } from "../../gen/jobs/v1/job_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { buildServer } from "../../server/app.js";
import type { ServerOptions } from "../../server/server-options.js";
import { newJobId } from "../../server/service/job-id.js";
import { createMemoryJobStore } from "../../server/stores/memory-job-store.js";
import { HeldWaits } from "../../server/waits/held-waits.js";
import { seededRandom } from "../support/seeded-random.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";
import {
  type Channel,
  channelName,
  channels,
  codeOf,
  encodeGetStatus,
  type GetStatusFields,
  type Protocol,
  sendGetStatus,
  timeoutHeader,
} from "../support/wire/get-status-channels.js";
import { holdRequestOpen } from "../support/wire/hold-request-open.js";
import { grpcFrame, type RawAnswer } from "../support/wire/raw-http.js";
import { createWirePool } from "../support/wire/wire-pool.js";
import { withoutRetryDelays } from "../support/wire/without-retry-delays.js";

// GetStatus answers the same through the lean path as through Connect's router, over every way
// users send it (get-status-channels.ts: HTTP/1.1 and HTTP/2, Connect JSON and binary and gRPC,
// with and without Content-Length) crossed with every way a call ends (the behaviours below).
// Each test starts two servers on one store, one with the lean path off, sends both the same
// request and compares the whole answers: status, every header but date, body bytes, trailers.

/** Two servers on one store, one with the lean path and one without, each with its own registry of held waits. */
interface Pair {
  lean: RunningServer;
  routed: RunningServer;
  held: [HeldWaits, HeldWaits];
  /** GetStatus requests that reached Fastify (the router), on each server: none on the lean one. */
  routedCalls: [number, number];
  /** Starts closing both (once); resolves when both are closed. */
  close(): Promise<void>;
}

/** One test's call: its pair, its channel, a fresh pending job, and ways to send. */
interface Call {
  pair: Pair;
  channel: Channel;
  jobId: string;
  /** The request message in the channel's protocol. */
  encode(fields: GetStatusFields): Uint8Array;
  send(server: RunningServer, body: Uint8Array, headers?: Record<string, string>): Promise<RawAnswer>;
  /** Sends the same request to both servers at once; the lean path's answer first. */
  both(body: Uint8Array, headers?: Record<string, string>): Promise<[RawAnswer, RawAnswer]>;
}

interface Behaviour {
  /** What both servers do, as a sentence that "as the router does" ends. */
  name: string;
  /** Only these protocols have it (JSON spellings only in JSON, frames only in gRPC). @default all */
  only?: Protocol[];
  /** Settings of each server, called once per server so that each gets its own parts. */
  server?: () => ServerOptions;
  /** The code the router answers with (undefined: OK), so that the answers compared mean what the name says. */
  code: Code | undefined;
  /** Sends the call to both servers; resolves with their answers, the lean path's first. */
  exchange(call: Call): Promise<[RawAnswer, RawAnswer]>;
  /** Applied to both answers before they are compared. */
  normalise?: (answer: RawAnswer) => RawAnswer;
}

const longWait = { wait: { seconds: 30n }, knownVersion: 1n };
const SEED = 20_250_907;

/** A request in JSON as written by hand (not as protobuf-es writes it). */
const text = (json: string): Uint8Array => new TextEncoder().encode(json);

/** Short polls `server` until it refuses one, and returns the refusal. */
async function untilRefused(call: Call, server: RunningServer): Promise<RawAnswer> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const answer = await call.send(server, call.encode({ jobId: call.jobId }));
    if (codeOf(answer, call.channel.protocol) !== undefined) {
      return answer;
    }
  }
  throw new Error("50 short polls in a row were let through");
}

/** Resolves once `server` has begun closing: health says NOT_SERVING, set with the call policy closed. */
async function closingBegan(server: RunningServer): Promise<void> {
  const health = createClient(Health, createConnectTransport({ baseUrl: server.url }));
  await vi.waitFor(
    async () => expect((await health.check({ service: JobService.typeName })).status).toBe(ServingStatus.NOT_SERVING),
    { timeout: 20_000, interval: 20 },
  );
}

const behaviours: Behaviour[] = [
  {
    name: "answers a short poll with the job and a poll hint",
    code: undefined,
    exchange: (call) => call.both(call.encode({ jobId: call.jobId })),
  },
  {
    name: "answers a short poll whose content type names a charset, from a page's origin",
    only: ["json"],
    code: undefined,
    exchange: (call) =>
      call.both(call.encode({ jobId: call.jobId }), {
        "content-type": "application/json; charset=utf-8",
        origin: "http://page.test",
      }),
  },
  {
    name: "answers a short poll without compressing the small answer the caller accepts gzip for",
    code: undefined,
    exchange: (call) =>
      call.both(call.encode({ jobId: call.jobId }), {
        [call.channel.protocol === "grpc" ? "grpc-accept-encoding" : "accept-encoding"]: "gzip",
      }),
  },
  {
    name: "answers a short poll with a large job compressed with the gzip the caller accepts",
    code: undefined,
    async exchange(call) {
      const job = await setup.endedJob("an error message long enough to be worth compressing ".repeat(40));
      const accept = call.channel.protocol === "grpc" ? "grpc-accept-encoding" : "accept-encoding";
      return call.both(call.encode({ jobId: job.id }), { [accept]: "gzip" });
    },
  },
  {
    name: "reads proto-style JSON field names",
    only: ["json"],
    code: undefined,
    exchange: (call) => call.both(text(`{"job_id":"${call.jobId}","known_version":3}`)),
  },
  {
    name: "answers a long wait at once when the version known is stale",
    code: undefined,
    exchange: (call) => call.both(call.encode({ jobId: call.jobId, wait: { seconds: 5n }, knownVersion: 7n })),
  },
  {
    name: "answers a long wait with the job once it changes",
    code: undefined,
    async exchange(call) {
      const answers = call.both(call.encode({ jobId: call.jobId, ...longWait }));
      answers.catch(() => undefined);
      await vi.waitFor(() => expect(call.pair.held.map((held) => held.size)).toEqual([1, 1]), { timeout: 20_000 });
      await setup.client().cancelJob({ jobId: call.jobId });
      return answers;
    },
  },
  {
    name: "answers a long wait until the job's end (until_terminal) at its end",
    code: undefined,
    async exchange(call) {
      const answers = call.both(call.encode({ jobId: call.jobId, wait: { seconds: 30n }, untilTerminal: true }));
      answers.catch(() => undefined);
      await vi.waitFor(() => expect(call.pair.held.map((held) => held.size)).toEqual([1, 1]), { timeout: 20_000 });
      await setup.client().cancelJob({ jobId: call.jobId });
      return answers;
    },
  },
  {
    name: "reads until_terminal in plain JSON and in proto-style JSON",
    only: ["json"],
    code: undefined,
    exchange: async (call) => {
      await call.both(text(`{"jobId":"${call.jobId}","untilTerminal":true}`));
      return call.both(text(`{"job_id":"${call.jobId}","until_terminal":true}`));
    },
  },
  {
    name: "answers a long wait of a fraction of a second with the unchanged job",
    code: undefined,
    exchange: (call) =>
      call.both(
        call.encode({ jobId: call.jobId, wait: { nanos: 200_000_000 }, knownVersion: 1n }),
        timeoutHeader(call.channel.protocol, 5_000),
      ),
  },
  {
    name: "answers a held long wait at once with the unchanged job when the server starts closing",
    code: undefined,
    async exchange(call) {
      const answers = call.both(call.encode({ jobId: call.jobId, ...longWait }));
      answers.catch(() => undefined);
      await vi.waitFor(() => expect(call.pair.held.map((held) => held.size)).toEqual([1, 1]), { timeout: 20_000 });
      call.pair.close().catch(() => undefined);
      return answers;
    },
  },
  {
    name: "answers a long wait with the unchanged job just before the caller's deadline",
    code: undefined,
    exchange: (call) => call.both(call.encode({ jobId: call.jobId, ...longWait }), timeoutHeader(call.channel.protocol, 1_000)),
  },
  {
    name: "answers NOT_FOUND for an unknown job",
    code: Code.NotFound,
    exchange: (call) => call.both(call.encode({ jobId: "AAAAAAAAAAAAAAAAAAAAAA" })),
  },
  {
    name: "refuses an empty job id",
    code: Code.InvalidArgument,
    exchange: (call) => call.both(call.encode({})),
  },
  {
    name: "refuses a malformed job id",
    code: Code.InvalidArgument,
    exchange: (call) => call.both(call.encode({ jobId: "nope" })),
  },
  {
    name: "refuses a negative wait",
    code: Code.InvalidArgument,
    exchange: (call) => call.both(call.encode({ jobId: call.jobId, wait: { seconds: -1n } })),
  },
  {
    name: "refuses a malformed wait in JSON",
    only: ["json"],
    code: Code.InvalidArgument,
    exchange: (call) => call.both(text(`{"jobId":"${call.jobId}","wait":"soon"}`)),
  },
  {
    name: "ignores an unknown JSON field",
    only: ["json"],
    code: undefined,
    exchange: (call) => call.both(text(`{"jobId":"${call.jobId}","colour":"blue"}`)),
  },
  {
    name: "refuses a wrongly typed JSON field",
    only: ["json"],
    code: Code.InvalidArgument,
    exchange: (call) => call.both(text(`{"jobId":42}`)),
  },
  {
    name: "refuses a 300 KB request, over maxBodyBytes, with RESOURCE_EXHAUSTED",
    code: Code.ResourceExhausted,
    exchange: (call) => call.both(call.encode({ jobId: "x".repeat(300_000) })),
  },
  {
    name: "refuses a malformed message (bad JSON, bad protobuf, bad protobuf in a gRPC frame)",
    code: Code.InvalidArgument,
    exchange(call) {
      const bodies: Record<Protocol, Uint8Array> = {
        json: text("{jobId"),
        // Field 1 says 255 bytes follow; none do.
        proto: new Uint8Array([0x0a, 0xff]),
        grpc: grpcFrame(new Uint8Array([0x0a, 0xff])),
      };
      return call.both(bodies[call.channel.protocol]);
    },
  },
  {
    name: "refuses a gRPC call with no message",
    only: ["grpc"],
    code: Code.Unimplemented,
    exchange: (call) => call.both(new Uint8Array()),
  },
  {
    name: "refuses a gRPC frame shorter than its prefix says",
    only: ["grpc"],
    code: Code.InvalidArgument,
    exchange: (call) => call.both(new Uint8Array([0, 0, 0, 0, 100, 0x0a, 0x00])),
  },
  {
    name: "refuses a gRPC body too short for a frame's prefix",
    only: ["grpc"],
    code: Code.InvalidArgument,
    exchange: (call) => call.both(new Uint8Array([0, 0, 0])),
  },
  {
    name: "refuses a second gRPC message where a unary call takes one",
    only: ["grpc"],
    code: Code.Unimplemented,
    exchange(call) {
      const one = call.encode({ jobId: call.jobId });
      return call.both(Buffer.concat([one, one]));
    },
  },
  {
    name: "refuses a gRPC message flagged compressed without grpc-encoding",
    only: ["grpc"],
    code: Code.InvalidArgument,
    exchange(call) {
      const flagged = call.encode({ jobId: call.jobId });
      flagged[0] = 1;
      return call.both(flagged);
    },
  },
  {
    name: "refuses a malformed timeout header",
    code: Code.InvalidArgument,
    exchange: (call) => call.both(call.encode({ jobId: call.jobId }), timeoutHeader(call.channel.protocol, "soon")),
  },
  {
    name: "refuses a call without an API key when keys are on",
    server: () => ({ apiKeys: ["the-key"] }),
    code: Code.Unauthenticated,
    exchange: (call) => call.both(call.encode({ jobId: call.jobId })),
  },
  {
    name: "refuses a call with a wrong API key",
    server: () => ({ apiKeys: ["the-key"] }),
    code: Code.Unauthenticated,
    exchange: (call) => call.both(call.encode({ jobId: call.jobId }), { authorization: "Bearer not-the-key" }),
  },
  {
    // The retry delays (retry-after, RetryInfo) are normalised, deliberately: each is the time
    // left until the caller's next token, which differs between any two calls.
    name: "refuses short polls past the rate limit, saying when to retry",
    server: () => ({ shortPollRate: 1 }),
    code: Code.ResourceExhausted,
    exchange: (call) => Promise.all([untilRefused(call, call.pair.lean), untilRefused(call, call.pair.routed)]),
    normalise: withoutRetryDelays,
  },
  {
    // A request held in flight keeps a closing server's port open (up to DRAIN_TIMEOUT, long
    // here), so the call, sent on a new connection (idle ones are closed), finds it closing
    // however slow the machine: no grace period to race.
    name: "refuses a call while the server is closing with UNAVAILABLE",
    server: () => ({ drainTimeoutMs: 60_000 }),
    code: Code.Unavailable,
    async exchange(call) {
      const releases = await Promise.all([holdRequestOpen(call.pair.lean.url), holdRequestOpen(call.pair.routed.url)]);
      try {
        call.pair.close().catch(() => undefined);
        await Promise.all([closingBegan(call.pair.lean), closingBegan(call.pair.routed)]);
        return await call.both(call.encode({ jobId: call.jobId }));
      } finally {
        for (const release of releases) {
          release();
        }
      }
    },
  },
  {
    // One call per server, each server with the same seeded numbers: the same fault.
    name: "fails a call with the injected fault",
    server: () => ({ faultRate: 1, random: seededRandom(SEED) }),
    code: Code.Internal,
    exchange: (call) => call.both(call.encode({ jobId: call.jobId })),
  },
];

/** The store every pair shares, and a server that creates and changes its jobs. */
const setup = (() => {
  const store = createMemoryJobStore();
  let server: RunningServer | undefined;
  return {
    store,
    /** A job that ended in ERROR with `errorMessage`, put in the store as it is (no server makes one this large). */
    async endedJob(errorMessage: string): Promise<Job> {
      const at = timestampFromMs(Date.now());
      const job = create(JobSchema, {
        id: newJobId(),
        state: JobState.ERROR,
        createTime: at,
        updateTime: at,
        errorMessage,
        version: 2n,
      });
      await store.create(job, "");
      return job;
    },
    /** Whether app.ts plugs the fast path in: a plain short poll to a default server bypasses Fastify. */
    fastPathPlugged: false,
    async start() {
      server = await startServer({ store, createRate: 0 });
      let routed = 0;
      const probe = await startCounted({ store }, (path) => {
        routed += path === GET_STATUS_PATH ? 1 : 0;
      });
      try {
        await rawClient(probe.url)
          .getStatus({ jobId: newJobId() })
          .catch(() => undefined);
      } finally {
        await probe.close();
      }
      this.fastPathPlugged = routed === 0;
    },
    close: () => server?.close(),
    client: () => rawClient(server!.url),
  };
})();

const GET_STATUS_PATH = `/${JobService.typeName}/${JobService.method.getStatus.name}`;

/** Starts a server as startServer does, counting the GetStatus requests that reach Fastify. */
async function startCounted(options: ServerOptions, counted: (path: string) => void): Promise<RunningServer> {
  const app = buildServer(options);
  app.addHook("onRequest", async (request) => counted(request.url));
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

async function startPair(server: Behaviour["server"]): Promise<Pair> {
  const settings = (): ServerOptions => ({ store: setup.store, shortPollRate: 0, ...server?.() });
  const held: [HeldWaits, HeldWaits] = [new HeldWaits(), new HeldWaits()];
  const routedCalls: [number, number] = [0, 0];
  const count = (index: 0 | 1) => (path: string) => {
    routedCalls[index] += path === GET_STATUS_PATH ? 1 : 0;
  };
  const [lean, routed] = await Promise.all([
    startCounted({ ...settings(), heldWaits: held[0] }, count(0)),
    startCounted({ ...settings(), heldWaits: held[1], leanPath: false }, count(1)),
  ]);
  let closed: Promise<void> | undefined;
  return {
    lean,
    routed,
    held,
    routedCalls,
    close: () => (closed ??= Promise.all([lean.close(), routed.close()]).then(() => undefined)),
  };
}

/** What is compared: the whole answer but its date, the body in base64 for a readable diff. */
function comparable({ headers: { date: _date, ...headers }, body, ...rest }: RawAnswer) {
  return { ...rest, headers, body: body.toString("base64") };
}

describe("the lean GetStatus path", () => {
  beforeAll(() => setup.start());
  afterAll(() => setup.close());

  const cases = behaviours.flatMap((behaviour) =>
    channels.filter((channel) => behaviour.only?.includes(channel.protocol) ?? true).map((channel) => ({ behaviour, channel })),
  );
  for (const { behaviour, channel } of cases) {
    it(`${behaviour.name} as the router does (${channelName(channel)})`, async () => {
      const { job } = await setup.client().createJob({ processingDuration: { seconds: 3_600n } });
      const pair = await startPair(behaviour.server);
      const pool = createWirePool();
      const send: Call["send"] = (server, body, headers) => sendGetStatus(pool, { url: server.url, channel, body, headers });
      const call: Call = {
        pair,
        channel,
        jobId: job!.id,
        encode: (fields) => encodeGetStatus(channel.protocol, fields),
        send,
        both: (body, headers) => Promise.all([send(pair.lean, body, headers), send(pair.routed, body, headers)]),
      };
      try {
        const normalise = behaviour.normalise ?? ((answer: RawAnswer) => answer);
        const [fromLean, fromRouter] = (await behaviour.exchange(call)).map(normalise) as [RawAnswer, RawAnswer];
        expect(codeOf(fromRouter, channel.protocol)).toBe(behaviour.code);
        expect(comparable(fromLean)).toEqual(comparable(fromRouter));
        // Proof that the two answers came one from each path, while app.ts plugs the fast path in
        // (without it, both are the router's: the server must stay as correct, and this suite pass).
        expect(pair.routedCalls[0] === 0).toBe(setup.fastPathPlugged);
        expect(pair.routedCalls[1]).toBeGreaterThan(0);
      } finally {
        await Promise.all([pool.close(), pair.close()]);
      }
    });
  }
});
