import { randomBytes } from "node:crypto";

/**
 * A new lease token: 128 random bits (unguessable, like job ids) and the lease's duration, so
 * that a heartbeat that names no duration renews the claim's own, on any instance, with nothing
 * stored for it. A worker that edits the duration has a token that is no longer the lease's.
 */
export function newLeaseToken(leaseMs: number): string {
  return `${randomBytes(16).toString("base64url")}.${Math.round(leaseMs)}`;
}

/** The lease duration a token was made with, in ms; undefined for a token not made here. */
export function leaseMsOf(token: string): number | undefined {
  const match = /^[A-Za-z0-9_-]{22}\.(\d{1,9})$/.exec(token);
  return match === null ? undefined : Number(match[1]);
}
