// usage: node soak-load.mjs <port> <ratePerSec> <seconds> <summary.json>
// Creates jobs (Connect JSON, HTTP/1.1 keep-alive) at a fixed rate with processingDuration 0-2 s;
// plus, each second, 2 long waits (wait 5s) and 5 short polls on recent jobs.

import { writeFileSync } from "node:fs";
import http from "node:http";
import { jsonCaller } from "./json-call.mjs";

const [port, rate, seconds, out] = process.argv.slice(2).map((x, i) => (i < 3 ? Number(x) : x));
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const call = jsonCaller({ port, agent });
const stats = {
  created: 0,
  createErrors: {},
  createMs: [],
  longWaits: 0,
  longWaitErrors: 0,
  longWaitMs: [],
  longWaitWoke: 0,
  polls: 0,
  pollErrors: 0,
  pollMs: [],
};
const recent = [];
const start = Date.now();
const endAt = start + seconds * 1000;
let sent = 0;
function quant(a, q) {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 100) / 100;
}
function keep(arr, v) {
  if (arr.length < 200000) arr.push(v);
}
async function createOne() {
  const d = (Math.floor(Math.random() * 2000) / 1000).toFixed(3);
  const r = await call("CreateJob", { processingDuration: `${d}s` });
  if (r.status === 200) {
    stats.created++;
    keep(stats.createMs, r.ms);
    const id = JSON.parse(r.body).job.id;
    recent.push(id);
    if (recent.length > 50) recent.shift();
  } else {
    const k = `${r.status} ${r.body.slice(0, 80)}`;
    stats.createErrors[k] = (stats.createErrors[k] ?? 0) + 1;
  }
}
// pacing: every 50 ms, send as many as are due
const tick = setInterval(() => {
  const now = Date.now();
  if (now >= endAt) {
    clearInterval(tick);
    return;
  }
  const due = Math.floor(((now - start) / 1000) * rate);
  while (sent < due) {
    sent++;
    void createOne();
  }
}, 50);
const side = setInterval(async () => {
  if (Date.now() >= endAt) {
    clearInterval(side);
    return;
  }
  const id = recent[recent.length - 1];
  if (!id) return;
  for (let i = 0; i < 2; i++) {
    void call("GetStatus", { jobId: id, wait: "5s", knownVersion: "1" }).then((r) => {
      if (r.status === 200) {
        stats.longWaits++;
        keep(stats.longWaitMs, r.ms);
        if (JSON.parse(r.body).job.state !== "JOB_STATE_PENDING") stats.longWaitWoke++;
      } else stats.longWaitErrors++;
    });
  }
  for (let i = 0; i < 5; i++) {
    const pid = recent[Math.floor(Math.random() * recent.length)];
    void call("GetStatus", { jobId: pid }).then((r) => {
      if (r.status === 200) {
        stats.polls++;
        keep(stats.pollMs, r.ms);
      } else stats.pollErrors++;
    });
  }
}, 1000);
const progress = setInterval(
  () =>
    process.stdout.write(
      `${Math.round((Date.now() - start) / 1000)}s sent=${sent} created=${stats.created} errors=${JSON.stringify(stats.createErrors)}\n`,
    ),
  30000,
);
await new Promise((r) => setTimeout(r, seconds * 1000 + 8000));
clearInterval(progress);
const summary = {
  port,
  rate,
  seconds,
  sent,
  created: stats.created,
  createErrors: stats.createErrors,
  createP50: quant(stats.createMs, 0.5),
  createP99: quant(stats.createMs, 0.99),
  createMax: quant(stats.createMs, 1),
  longWaits: stats.longWaits,
  longWaitWoke: stats.longWaitWoke,
  longWaitErrors: stats.longWaitErrors,
  longWaitP50: quant(stats.longWaitMs, 0.5),
  polls: stats.polls,
  pollErrors: stats.pollErrors,
  pollP50: quant(stats.pollMs, 0.5),
  pollP99: quant(stats.pollMs, 0.99),
};
writeFileSync(out, JSON.stringify(summary, null, 1));
console.log(JSON.stringify(summary));
agent.destroy();
process.exit(0);
