import { type Job, JobState } from "../client/index.js";
import type { ErrorText } from "./describe-error.js";
import { attemptText, formatPercent } from "./format.js";
import { jsonElement } from "./json-preview.js";

/**
 * What a row's Details cell holds: for a job of a kind, how its worker is getting on (a progress
 * bar with the worker's message, the attempt) and then its result; the error of a job that
 * failed; and the failure of the row's own watch, when it has one.
 */
export function jobDetails(job: Job, problem: ErrorText | undefined): Node[] {
  const nodes: Node[] = [];
  const ofKind = job.kind !== "";
  if (job.state === JobState.PENDING) {
    if (!ofKind) {
      if (job.shouldError) {
        nodes.push(span("muted", "will end in error"));
      }
    } else if (!job.held) {
      // Not held: waiting for its first worker, or for its next attempt (after a failure or a
      // lost lease).
      nodes.push(span("muted", job.attempt === 0 ? "waiting for a worker" : `waiting for attempt ${job.attempt + 1}`));
    } else {
      nodes.push(progressLine(job));
    }
  } else if (job.state === JobState.COMPLETED && job.result !== undefined) {
    const result = span("result", "");
    result.append(span("label", "result"), jsonElement(job.result));
    nodes.push(result);
  } else if (job.state === JobState.ERROR) {
    nodes.push(span("job-error", job.errorMessage || "failed"));
  }
  if (ofKind && job.attempt > 0 && job.state !== JobState.PENDING) {
    nodes.push(span("attempt muted", attemptText(job)));
  }
  if (problem !== undefined) {
    const line = span("watch-problem", "");
    const title = document.createElement("strong");
    title.textContent = problem.title;
    line.append(title, problem.text);
    nodes.push(line);
  }
  return nodes;
}

/** The bar and the share done, the worker's message under them, then the attempt ("attempt 1 of 3"). */
function progressLine(job: Job): HTMLElement {
  const fraction = job.progress?.fraction ?? 0;
  const line = span("progress-line", "");
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  bar.textContent = formatPercent(fraction);
  bar.setAttribute("aria-label", `Progress of job ${job.id.slice(0, 8)}`);
  line.append(bar, span("progress-text", formatPercent(fraction)));
  const message = job.progress?.message ?? "";
  if (message !== "") {
    line.append(span("progress-message", message));
  }
  line.append(span("attempt muted", attemptText(job)));
  return line;
}

function span(className: string, text: string): HTMLSpanElement {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}
