import type { JOB_STATUS } from "../../client/index.js";

/**
 * The states `list --state` takes, each with its key in JOB_STATUS. Written out because --help
 * must not load the client library (see program.ts): the type takes every key of JOB_STATUS and
 * no other, so the build fails when the two part.
 */
export const LIST_STATES: { readonly [K in keyof typeof JOB_STATUS as Lowercase<K>]: K } = Object.freeze({
  pending: "PENDING",
  completed: "COMPLETED",
  error: "ERROR",
  cancelled: "CANCELLED",
});

/** One of the states `list --state` takes: "pending", "completed", ... */
export type ListState = keyof typeof LIST_STATES;
