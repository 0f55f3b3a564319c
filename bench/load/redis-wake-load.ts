// Two instances on one Redis: create a job on A, long-wait for it on B. For each job, the delay
// from its end (updateTime) to B's answer, which comes through Redis pub/sub.

import { durationFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { JobState } from "../../gen/jobs/v1/job_pb.js";
import { JobService } from "../../gen/jobs/v1/job_service_pb.js";
import { serveParent } from "../serve-parent.js";

export interface RedisWakeRun {
  urlA: string;
  urlB: string;
  /** One job per entry, all at once. */
  durationsMs: number[];
}

async function run(spec: RedisWakeRun) {
  const a = createClient(JobService, createConnectTransport({ baseUrl: spec.urlA }));
  const b = createClient(JobService, createConnectTransport({ baseUrl: spec.urlB }));
  const one = async (durationMs: number) => {
    const { job } = await a.createJob({ processingDuration: durationFromMs(durationMs) });
    const answer = await b.getStatus({ jobId: job?.id ?? "", wait: { seconds: 30n }, knownVersion: 1n }, { timeoutMs: 40_000 });
    const answeredAt = Date.now();
    const ended = answer.job?.state === JobState.COMPLETED ? answer.job.updateTime : undefined;
    return ended === undefined ? undefined : answeredAt - timestampMs(ended);
  };
  const delays = await Promise.all(spec.durationsMs.map(one));
  return {
    delaysMs: delays.filter((delay): delay is number => delay !== undefined),
    notCompleted: delays.filter((delay) => delay === undefined).length,
  };
}

serveParent({ run }, {});
