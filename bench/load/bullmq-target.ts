/** Where BullMQ's side of the worker path runs: a queue under a prefix of its own on the bench's Redis. */
export interface BullmqTarget {
  redisUrl: string;
  /** BullMQ's key prefix, unique to the run (its keys are deleted afterwards). */
  prefix: string;
  queue: string;
}

/** BullMQ's connection options for `url` (it makes its own ioredis connections from them). */
export function connectionOf(url: string): { host: string; port: number; db: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379), db: Number(parsed.pathname.slice(1) || 0) };
}
