// awaitCompletion end to end: JobClient (client/index.ts) over Connect (fetch) follows jobs in
// each mode. For each job: the delay from its end (updateTime of the terminal job) to the
// promise resolving, and the requests awaitCompletion sent (counted by a transport interceptor
// on a client of its own; the create is sent by another client and not counted). Then the same
// jobs through createAndAwait, the create counted with the rest.

import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { JobClient, type PollingMode } from "../../client/index.js";
import { serveParent } from "../serve-parent.js";

export interface AwaitCompletionRun {
  url: string;
  modes: PollingMode[];
  /** One job per entry, per mode, all followed at once. */
  durationsMs: number[];
  pollIntervalMs: number;
}

export interface FollowedJob {
  /** The mode awaitCompletion followed the job in, or createAndAwait (in its default mode). */
  mode: PollingMode | "createAndAwait";
  durationMs: number;
  delayMs: number;
  requests: number;
  state: number;
}

async function run(spec: AwaitCompletionRun): Promise<FollowedJob[]> {
  const creator = new JobClient({ transport: createConnectTransport({ baseUrl: spec.url }) });
  const follow = async (mode: FollowedJob["mode"], durationMs: number): Promise<FollowedJob> => {
    let requests = 0;
    const counter: Interceptor = (next) => (req) => {
      requests++;
      return next(req);
    };
    const client = new JobClient({ transport: createConnectTransport({ baseUrl: spec.url, interceptors: [counter] }) });
    const timeoutMs = durationMs + 30_000;
    const done =
      mode === "createAndAwait"
        ? await client.createAndAwait({ processingDurationMs: durationMs }, { timeoutMs })
        : await client.awaitCompletion((await creator.createJob({ processingDurationMs: durationMs })).id, {
            mode,
            pollIntervalMs: spec.pollIntervalMs,
            timeoutMs,
          });
    const resolvedAt = Date.now();
    const endedAt = done.updateTime === undefined ? NaN : timestampMs(done.updateTime);
    return { mode, durationMs, delayMs: resolvedAt - endedAt, requests, state: done.state };
  };
  const modes: FollowedJob["mode"][] = [...spec.modes, "createAndAwait"];
  return Promise.all(modes.flatMap((mode) => spec.durationsMs.map((durationMs) => follow(mode, durationMs))));
}

serveParent({ run }, {});
