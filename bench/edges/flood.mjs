// usage: node flood.mjs <port> <streams> <events.jsonl> [--ack] [--pings] [--data] [--max=<s>]
// One HTTP/2 connection (prior knowledge), frames written by hand: <streams> HEADERS for
// POST /jobs.v1.JobService/GetStatus (application/grpc), never END_STREAM. Reads every frame back.

import { appendFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";

const args = process.argv.slice(2);
const [port, count, out] = [Number(args[0]), Number(args[1]), args[2]];
const ACK = args.includes("--ack"),
  PINGS = args.includes("--pings"),
  DATA = args.includes("--data");
const MAX_S = Number((args.find((a) => a.startsWith("--max=")) ?? "--max=200").slice(6));
writeFileSync(out, "");
const t0 = Date.now();
const log = (ev) => appendFileSync(out, `${JSON.stringify({ t: Date.now(), s: (Date.now() - t0) / 1000, ...ev })}\n`);
function frame(type, flags, id, payload = Buffer.alloc(0)) {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}
const lit = (n, v) => Buffer.concat([Buffer.from([0x00, n.length]), Buffer.from(n), Buffer.from([v.length]), Buffer.from(v)]);
const block = Buffer.concat([
  lit(":method", "POST"),
  lit(":scheme", "http"),
  lit(":path", "/jobs.v1.JobService/GetStatus"),
  lit(":authority", `127.0.0.1:${port}`),
  lit("content-type", "application/grpc"),
  lit("te", "trailers"),
]);
// part of a gRPC body: the 5-byte prefix announces 40 bytes, 8 follow
const partial = Buffer.concat([Buffer.from([0, 0, 0, 0, 40]), Buffer.from([0x0a, 0x16, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61])]);
const TYPES = [
  "DATA",
  "HEADERS",
  "PRIORITY",
  "RST_STREAM",
  "SETTINGS",
  "PUSH_PROMISE",
  "PING",
  "GOAWAY",
  "WINDOW_UPDATE",
  "CONTINUATION",
];
const CODES = [
  "NO_ERROR",
  "PROTOCOL_ERROR",
  "INTERNAL_ERROR",
  "FLOW_CONTROL_ERROR",
  "SETTINGS_TIMEOUT",
  "STREAM_CLOSED",
  "FRAME_SIZE_ERROR",
  "REFUSED_STREAM",
  "CANCEL",
  "COMPRESSION_ERROR",
  "CONNECT_ERROR",
  "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
];
const frames = {};
const rst = {};
const rstIds = {};
const responded = new Set();
let goaway;
let serverSettings;
let pingsAnswered = 0;
let bytesIn = 0;
const sock = connect(port, "127.0.0.1");
await new Promise((r, j) => sock.once("connect", r).once("error", j));
sock.on("error", (e) => log({ ev: "socket-error", error: String(e.message) }));
const closed = new Promise((r) =>
  sock.once("close", () => {
    log({ ev: "closed" });
    r();
  }),
);
let settingsSeen;
const gotSettings = new Promise((r) => (settingsSeen = r));
let buf = Buffer.alloc(0);
sock.on("data", (chunk) => {
  bytesIn += chunk.length;
  buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
  while (buf.length >= 9) {
    const len = buf.readUIntBE(0, 3);
    if (buf.length < 9 + len) break;
    const type = buf[3],
      flags = buf[4],
      id = buf.readUInt32BE(5) & 0x7fffffff,
      p = buf.subarray(9, 9 + len);
    buf = buf.subarray(9 + len);
    const name = TYPES[type] ?? `type${type}`;
    frames[name] = (frames[name] ?? 0) + 1;
    if (type === 3) {
      const code = CODES[p.readUInt32BE(0)] ?? p.readUInt32BE(0);
      rst[code] = (rst[code] ?? 0) + 1;
      rstIds[code] ??= { min: id, max: id };
      const r = rstIds[code];
      r.min = Math.min(r.min, id);
      r.max = Math.max(r.max, id);
      if (rst[code] === 1) log({ ev: "first-rst", code, id });
    } else if (type === 4 && !(flags & 1)) {
      serverSettings = {};
      for (let i = 0; i + 6 <= p.length; i += 6) serverSettings[p.readUInt16BE(i)] = p.readUInt32BE(i + 2);
      log({ ev: "server-settings", settings: serverSettings });
      if (ACK) sock.write(frame(4, 1, 0));
      settingsSeen();
    } else if (type === 6 && !(flags & 1)) {
      log({ ev: "ping" });
      if (PINGS) {
        sock.write(frame(6, 1, 0, p));
        pingsAnswered++;
      }
    } else if (type === 7) {
      goaway = {
        lastStreamId: p.readUInt32BE(0) & 0x7fffffff,
        code: CODES[p.readUInt32BE(4)] ?? p.readUInt32BE(4),
        debug: p.subarray(8).toString(),
      };
      log({ ev: "goaway", ...goaway });
    } else if (type === 1) {
      responded.add(id);
      if (responded.size === 1) log({ ev: "first-response-headers", id });
    }
  }
});
sock.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(4, 0, 0)]));
await gotSettings;
log({ ev: "flood-start", count, ack: ACK, pings: PINGS, data: DATA });
let sent = 0;
for (let i = 0; i < count && !sock.destroyed; i++) {
  const id = 2 * i + 1;
  let ok = sock.write(frame(1, 0x4, id, block));
  if (DATA) ok = sock.write(frame(0, 0, id, partial)) && ok;
  sent++;
  if (!ok)
    await new Promise((r) => {
      sock.once("drain", r);
      sock.once("close", r);
    });
}
log({ ev: "flood-sent", sent, bytesOut: sock.bytesWritten });
const status = () => ({ frames, rst, rstIds, respondedStreams: responded.size, goaway, pingsAnswered, bytesIn });
const ticker = setInterval(() => log({ ev: "status", ...status() }), 5000);
const timer = setTimeout(() => {
  log({ ev: "max-time, destroying" });
  sock.destroy();
}, MAX_S * 1000);
await closed;
clearInterval(ticker);
clearTimeout(timer);
const summary = { sent, serverSettings, ...status(), closedAfterS: (Date.now() - t0) / 1000 };
log({ ev: "summary", ...summary });
console.log(JSON.stringify(summary));
