// usage: node poller.mjs <port> <perSecond> <seconds> <out.jsonl>
// Creates one job (pending for 50 min), then short-polls it (Connect JSON, HTTP/1.1 keep-alive,
// one at a time) at <perSecond>, writing {t, ms, status} per call.

import { appendFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { jsonCaller } from "./json-call.mjs";

const [port, perSec, secs] = process.argv.slice(2, 5).map(Number);
const out = process.argv[5];
writeFileSync(out, "");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const call = jsonCaller({ port, agent, timeoutMs: 10_000 });
const created = await call("CreateJob", { processingDuration: "3000s" });
const id = JSON.parse(created.body).job.id;
const end = Date.now() + secs * 1000;
const gap = 1000 / perSec;
let lines = [];
while (Date.now() < end) {
  const start = Date.now();
  const r = await call("GetStatus", { jobId: id });
  lines.push(JSON.stringify({ t: start, ms: Math.round(r.ms * 1000) / 1000, status: r.status }));
  if (lines.length >= 100) {
    appendFileSync(out, `${lines.join("\n")}\n`);
    lines = [];
  }
  const wait = gap - (Date.now() - start);
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
if (lines.length) appendFileSync(out, `${lines.join("\n")}\n`);
agent.destroy();
