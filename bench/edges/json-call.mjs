// One Connect JSON call to JobService over HTTP/1.1, for the edge scripts: resolves (never
// rejects) with the status, the body and the time taken; status 0 for a network failure or,
// with `timeoutMs`, a call that took longer.
import http from "node:http";

export function jsonCaller({ port, agent, timeoutMs }) {
  return function call(method, body) {
    return new Promise((resolve) => {
      const t = performance.now();
      const data = JSON.stringify(body);
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: `/jobs.v1.JobService/${method}`,
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) },
        },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString(), ms: performance.now() - t }),
          );
        },
      );
      if (timeoutMs !== undefined) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
      }
      req.on("error", (e) => resolve({ status: 0, body: String(e), ms: performance.now() - t }));
      req.end(data);
    });
  };
}
