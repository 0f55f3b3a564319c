import type { Redis } from "ioredis";
import { type BucketShape, type Decision, EARLY_MS, MAX_PROMISED, PROMISE_GRACE_MS } from "./token-bucket.js";

// takeToken (token-bucket.ts), step for step, atomically in Redis, on Redis's clock so that
// every instance agrees. KEYS: the bucket's hash. ARGV: interval ms, burst, grace ms, max promised, early ms, returning (1 or 0).
// Returns {allowed (1 or 0), retry after (whole ms)}.
const takeTokenScript = `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = (tonumber(ARGV[2]) - 1) * interval
local grace = tonumber(ARGV[3])
local early = tonumber(ARGV[5])
local returning = ARGV[6] == "1"
local saved = redis.call("HMGET", KEYS[1], "tat", "first", "promised")
local tat = tonumber(saved[1]) or now
local first = tonumber(saved[2]) or now
local promised = tonumber(saved[3]) or 0
if promised > 0 and first < now - grace then
  local expired = math.min(promised, math.floor((now - grace - first) / interval) + 1)
  promised = promised - expired
  first = first + expired * interval
end
local allowed = 0
local retry = 0
if promised > 0 and (returning or first <= now + early) then
  first = first + interval
  promised = promised - 1
  allowed = 1
elseif returning or (promised == 0 and tat - tolerance <= now) then
  tat = math.max(tat, now) + interval
  allowed = 1
elseif promised >= tonumber(ARGV[4]) then
  retry = first + promised * interval - now
else
  local slot = tat - tolerance
  if promised == 0 then first = slot end
  promised = promised + 1
  tat = tat + interval
  retry = slot - now
end
redis.call("HSET", KEYS[1], "tat", tostring(tat), "first", tostring(first), "promised", promised)
local keep = math.max(tat, first + promised * interval) - now + grace
redis.call("PEXPIRE", KEYS[1], math.max(1, math.ceil(keep)))
return {allowed, math.ceil(retry)}
`;

type ScriptedRedis = Redis & { takeToken(key: string, ...args: string[]): Promise<[number, number]> };

/** A bucket per caller in Redis, shared by every instance: takeToken as one script. */
export function createRedisTokenBucket(redis: Redis, shape: BucketShape): (key: string, returning: boolean) => Promise<Decision> {
  const scripted = redis as ScriptedRedis;
  if (typeof scripted.takeToken !== "function") {
    redis.defineCommand("takeToken", { numberOfKeys: 1, lua: takeTokenScript });
  }
  const args = [String(shape.intervalMs), String(shape.burst), String(PROMISE_GRACE_MS), String(MAX_PROMISED), String(EARLY_MS)];
  return async (key, returning) => {
    const [allowed, retryAfterMs] = await scripted.takeToken(key, ...args, returning ? "1" : "0");
    return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs };
  };
}
