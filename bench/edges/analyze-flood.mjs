import { readFileSync } from "node:fs";

const name = process.argv[2];
const rd = (f) =>
  readFileSync(new URL(`../results/edges/${name}-${f}.jsonl`, import.meta.url), "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const samples = rd("samples").filter((r) => r.rssMB != null && !Number.isNaN(r.rssMB)),
  polls = rd("poll"),
  events = rd("events");
const ev = (e) => events.find((x) => x.ev === e);
const start = ev("flood-start").t,
  closed = ev("closed")?.t ?? Infinity,
  cut = start + 30000;
const q = (a, p) => {
  if (!a.length) return null;
  const s = [...a].sort((x, y) => x - y);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 100) / 100;
};
const phase = (lbl, a, b) => {
  const ps = polls.filter((p) => p.t >= a && p.t < b);
  const ok = ps.filter((p) => p.status === 200).map((p) => p.ms);
  console.log(
    `${lbl.padEnd(28)} n=${ps.length} non200=${ps.length - ok.length} p50=${q(ok, 0.5)} p99=${q(ok, 0.99)} max=${q(ok, 1)} ms`,
  );
};
console.log(
  `flood start +0; sent at +${(ev("flood-sent").t - start) / 1000}s; first RST ${JSON.stringify(events.filter((e) => e.ev === "first-rst").map((e) => [e.code, e.id, (e.t - start) / 1000]))}; goaway ${JSON.stringify(ev("goaway"))}; closed at +${(closed - start) / 1000}s; pings seen ${events.filter((e) => e.ev === "ping").length}`,
);
phase("before (20s)", polls[0].t + 2000, start);
phase("flood, first 2s", start, start + 2000);
phase("flood, held (0-30s)", start, Math.min(cut, closed));
phase("cut..close", Math.min(cut, closed), closed);
phase("after close", closed, Infinity);
const f = (x) => Math.round(x * 10) / 10;
const before = samples.filter((s) => s.t < start).at(-1),
  during = samples.filter((s) => s.t >= start && s.t <= closed + 1000);
const peak = during.reduce((b, s) => (s.rssMB > b.rssMB ? s : b), during[0] ?? before);
const last = samples.at(-1);
console.log(
  `rss MB: before ${f(before.rssMB)} (heap ${f(before.heapUsedMB)}), peak ${f(peak.rssMB)} at +${(peak.t - start) / 1000}s (heap then ${f(peak.heapUsedMB)}), at close ${f(samples.filter((s) => s.t <= closed).at(-1)?.rssMB)}, last ${f(last.rssMB)} at +${(last.t - start) / 1000}s (heap ${f(last.heapUsedMB)}); hwm ${f(last.hwmMB)}`,
);
const maxHeap = Math.max(...during.map((s) => s.heapUsedMB ?? 0));
console.log(`heapUsed max during ${f(maxHeap)}`);
console.log(
  `fds: before ${before.fds}, max during ${Math.max(...during.map((s) => s.fds))}, 3s after close ${samples.find((s) => s.t >= closed + 3000)?.fds}, last ${last.fds}`,
);
console.log(
  `cpu server % during first 3 s: ${samples.filter((s) => s.t >= start && s.t < start + 4000).map((s) => s.cpuPct)}; machine busy before avg ${f(
    samples
      .filter((s) => s.t < start)
      .map((s) => s.machineBusyPct)
      .filter((x) => x != null)
      .reduce((a, b, _, A) => a + b / A.length, 0),
  )}%`,
);
const st = events.filter((e) => e.ev === "status");
console.log("last status:", JSON.stringify(events.find((e) => e.ev === "summary") ?? st.at(-1)));
