import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import { cpuTimeUs, machineBusyUs } from "./proc-stats.js";

/** The CPU each process took over a run, in cores (1 = one core busy throughout). */
export interface CpuShares {
  /** Our server's (for BullMQ's path: its worker process's). */
  serverCpuShare: number;
  loadCpuShare: number;
  /** Redis's own CPU, when its process can be read here. */
  redisCpuShare?: number;
  /** Every process but the server and the load (Redis included): other work on the machine is noise. */
  otherCpuShare: number;
}

/** The processes whose CPU a run counts; Redis's when it runs here. */
export interface CpuPids {
  server: number;
  load: number;
  redis: number | undefined;
}

/** Runs `work` and adds the CPU that the server, the load, Redis and everything else took over its wall time. */
export async function withCpu<T extends object>(pids: CpuPids, work: () => Promise<T>): Promise<T & CpuShares> {
  const read = () => ({
    server: cpuTimeUs(pids.server),
    load: cpuTimeUs(pids.load),
    redis: pids.redis === undefined ? undefined : cpuTimeUs(pids.redis),
    busy: machineBusyUs(),
    at: performance.now(),
  });
  const before = read();
  const result = await work();
  const after = read();
  const wallUs = (after.at - before.at) * 1000;
  const serverUs = after.server - before.server;
  const loadUs = after.load - before.load;
  const shares: CpuShares = {
    serverCpuShare: serverUs / wallUs,
    loadCpuShare: loadUs / wallUs,
    redisCpuShare: after.redis === undefined || before.redis === undefined ? undefined : (after.redis - before.redis) / wallUs,
    otherCpuShare: Math.max(0, after.busy - before.busy - serverUs - loadUs) / wallUs,
  };
  return { ...result, ...shares };
}

/** The Redis server's pid when it runs on this machine and its /proc entry can be read; else undefined. */
export async function redisPidOf(url: string): Promise<number | undefined> {
  const redis = new Redis(url);
  try {
    const info = await redis.info("server");
    const pid = Number(/^process_id:(\d+)/m.exec(info)?.[1]);
    return Number.isInteger(pid) && existsSync(`/proc/${pid}/stat`) ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
