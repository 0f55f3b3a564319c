// usage: node sampler.mjs <pid> <port> <intervalMs> <out.jsonl> [otherPid...]
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";

const [pid, port, intervalMs, out, ...others] = process.argv.slice(2);
const HZ = 100;
function cpuTicks(p) {
  try {
    const s = readFileSync(`/proc/${p}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return NaN;
  }
}
function statusKb(p, key) {
  try {
    const m = readFileSync(`/proc/${p}/status`, "utf8").match(new RegExp(`^${key}:\\s+(\\d+)`, "m"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}
function fds(p) {
  try {
    return readdirSync(`/proc/${p}/fd`).length;
  } catch {
    return NaN;
  }
}
function totalTicks() {
  const l = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return { all: l.reduce((a, b) => a + b, 0), idle: l[3] + l[4] };
}
const t0 = Date.now();
let last = { t: t0, ticks: cpuTicks(pid), others: others.map(cpuTicks), sys: totalTicks() };
async function metrics() {
  try {
    const ac = AbortSignal.timeout(Math.min(5000, Number(intervalMs)));
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: ac })).text();
    const pick = (re) => {
      const m = text.match(re);
      return m ? Number(m[1]) : undefined;
    };
    const jobs = {};
    for (const m of text.matchAll(/^jobs\{state="([^"]+)"\} (\S+)$/gm)) jobs[m[1]] = Number(m[2]);
    return {
      heapUsedMB: pick(/^nodejs_heap_size_used_bytes (\S+)$/m) / 1048576,
      heapTotalMB: pick(/^nodejs_heap_size_total_bytes (\S+)$/m) / 1048576,
      promRssMB: pick(/^process_resident_memory_bytes (\S+)$/m) / 1048576,
      heldWaits: pick(/^held_waits (\S+)$/m),
      evictions: pick(/^evictions_total (\S+)$/m),
      jobs,
    };
  } catch (e) {
    return { metricsError: String(e.message ?? e) };
  }
}
async function sample() {
  const now = Date.now();
  const ticks = cpuTicks(pid),
    o = others.map(cpuTicks),
    sys = totalTicks();
  const dt = (now - last.t) / 1000;
  const row = {
    t: now,
    s: Math.round((now - t0) / 100) / 10,
    rssMB: statusKb(pid, "VmRSS") / 1024,
    hwmMB: statusKb(pid, "VmHWM") / 1024,
    fds: fds(pid),
    cpuPct: Math.round(((ticks - last.ticks) / HZ / dt) * 1000) / 10,
    othersCpuPct: o.map((x, i) => Math.round(((x - last.others[i]) / HZ / dt) * 1000) / 10),
    machineBusyPct: Math.round((1 - (sys.idle - last.sys.idle) / (sys.all - last.sys.all)) * 1000) / 10,
    load1: loadavg()[0],
    ...(await metrics()),
  };
  last = { t: now, ticks, others: o, sys };
  appendFileSync(out, `${JSON.stringify(row)}\n`);
  if (Number.isNaN(row.rssMB)) process.exit(0);
}
await sample();
setInterval(sample, Number(intervalMs));
