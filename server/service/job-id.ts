import { randomBytes } from "node:crypto";

const jobIdPattern = /^[A-Za-z0-9_-]{22}$/;

/** A new unguessable job id: 128 random bits as 22 characters of unpadded base64url. */
export function newJobId(): string {
  return randomBytes(16).toString("base64url");
}

/** True for strings shaped like the ids newJobId makes. */
export function isJobId(text: string): boolean {
  return jobIdPattern.test(text);
}
