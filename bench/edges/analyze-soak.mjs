import { readFileSync } from "node:fs";

const rows = readFileSync(process.argv[2], "utf8")
  .trim()
  .split("\n")
  .map((l) => JSON.parse(l))
  .filter((r) => !Number.isNaN(r.rssMB) && r.rssMB != null);
const at = (s) => rows.reduce((b, r) => (Math.abs(r.s - s) < Math.abs(b.s - s) ? r : b));
const f = (x) => Math.round(x * 10) / 10;
function slope(rs, key) {
  const xs = rs.map((r) => r.s / 60),
    ys = rs.map((r) => r[key]);
  const n = xs.length,
    mx = xs.reduce((a, b) => a + b) / n,
    my = ys.reduce((a, b) => a + b) / n;
  let nu = 0,
    de = 0;
  for (let i = 0; i < n; i++) {
    nu += (xs[i] - mx) * (ys[i] - my);
    de += (xs[i] - mx) ** 2;
  }
  return nu / de;
}
const marks = (process.argv[3] ?? "60,120,300,600").split(",").map(Number);
console.log(
  "at:",
  marks
    .map((m) => {
      const r = at(m);
      return `${r.s}s rss=${f(r.rssMB)} heap=${f(r.heapUsedMB)} heapTotal=${f(r.heapTotalMB)} jobs=${JSON.stringify(r.jobs)}`;
    })
    .join("\n    "),
);
const after1 = rows.filter((r) => r.s >= 60 && r.s <= marks[marks.length - 1] + 1),
  after2 = rows.filter((r) => r.s >= 120 && r.s <= marks[marks.length - 1] + 1);
const mm = (rs, k) => `${f(Math.min(...rs.map((r) => r[k])))}..${f(Math.max(...rs.map((r) => r[k])))}`;
console.log(
  `after 1 min: rss ${mm(after1, "rssMB")} MB, heapUsed ${mm(after1, "heapUsedMB")} MB, heapTotal ${mm(after1, "heapTotalMB")}`,
);
console.log(
  `slope after 2 min: rss ${slope(after2, "rssMB").toFixed(3)} MB/min, heapUsed ${slope(after2, "heapUsedMB").toFixed(3)} MB/min (n=${after2.length})`,
);
const tot = (r) => Object.values(r.jobs ?? {}).reduce((a, b) => a + b, 0);
console.log(
  `store jobs after 2 min: total ${Math.min(...after2.map(tot))}..${Math.max(...after2.map(tot))}; pending ${mm(
    after2.map((r) => ({ p: r.jobs.pending ?? 0 })),
    "p",
  )}; ended ${mm(
    after2.map((r) => ({ e: tot(r) - (r.jobs.pending ?? 0) })),
    "e",
  )}`,
);
const load = rows.filter((r) => r.s > 5 && r.s <= marks[marks.length - 1] + 1);
const avg = (a) => f(a.reduce((x, y) => x + y, 0) / a.length);
console.log(
  `cpu: server avg ${avg(load.map((r) => r.cpuPct))}% of a core (max ${Math.max(...load.map((r) => r.cpuPct))}), loadgen avg ${avg(load.map((r) => r.othersCpuPct[0] ?? 0))}%, machine busy avg ${avg(load.map((r) => r.machineBusyPct))}% of 2 cores (max ${Math.max(...load.map((r) => r.machineBusyPct))}), load1 ${mm(load, "load1")}; evictions at end ${rows.at(-1).evictions}; final hwm ${f(rows.at(-1).hwmMB)}`,
);
