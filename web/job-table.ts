import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { isTerminal, type Job, JobState } from "../client/index.js";
import type { ErrorText } from "./describe-error.js";
import { formatDuration, formatTimeLeft, stateName } from "./format.js";

export interface JobTableOptions {
  body: HTMLTableSectionElement;
  /** The user asked to cancel this pending job. */
  onCancel(jobId: string): void;
  /** The user asked to watch this job again after its watch failed. */
  onWatchAgain(jobId: string): void;
}

interface Row {
  job: Job;
  tr: HTMLTableRowElement;
  state: HTMLElement;
  timeLeft: HTMLTableCellElement;
  details: HTMLTableCellElement;
  cancel: HTMLButtonElement;
  watchAgain: HTMLButtonElement;
  problem: ErrorText | undefined;
  busy: boolean;
}

/** The jobs table: one row per job, newest first, each showing the latest version seen. */
export class JobTable {
  readonly #options: JobTableOptions;
  readonly #rows = new Map<string, Row>();

  constructor(options: JobTableOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#rows.size;
  }

  /** The job as last shown, if it has a row. */
  get(jobId: string): Job | undefined {
    return this.#rows.get(jobId)?.job;
  }

  /** Shows the job: adds its row in creation order, or updates it unless this version is older. */
  show(job: Job): void {
    let row = this.#rows.get(job.id);
    if (row === undefined) {
      row = this.#addRow(job);
    } else if (job.version < row.job.version) {
      return;
    }
    row.job = job;
    if (isTerminal(job)) {
      row.problem = undefined;
    }
    this.#render(row, Date.now());
  }

  /** Shows (or, with undefined, clears) a failure of the job's watch or of an action on it. */
  setProblem(jobId: string, problem: ErrorText | undefined): void {
    const row = this.#rows.get(jobId);
    if (row !== undefined) {
      row.problem = problem;
      this.#render(row, Date.now());
    }
  }

  /** Disables the row's buttons while an action on the job is under way. */
  setBusy(jobId: string, busy: boolean): void {
    const row = this.#rows.get(jobId);
    if (row !== undefined) {
      row.busy = busy;
      this.#render(row, Date.now());
    }
  }

  /** Updates the countdowns of pending jobs. */
  tick(now = Date.now()): void {
    for (const row of this.#rows.values()) {
      if (row.job.state === JobState.PENDING) {
        setText(row.timeLeft, timeLeftText(row.job, now));
      }
    }
  }

  #addRow(job: Job): Row {
    const tr = document.createElement("tr");
    tr.dataset.jobId = job.id;
    const id = cell(tr);
    const code = document.createElement("code");
    code.textContent = shortId(job.id);
    code.title = job.id;
    id.append(code);
    const state = document.createElement("span");
    cell(tr).append(state);
    const timeLeft = cell(tr, "num time-left");
    cell(tr, "num").textContent = job.processingDuration === undefined ? "" : formatDuration(durationMs(job.processingDuration));
    const created = document.createElement("time");
    if (job.createTime !== undefined) {
      const at = new Date(timestampMs(job.createTime));
      created.dateTime = at.toISOString();
      created.textContent = at.toLocaleTimeString();
    }
    cell(tr, "num").append(created);
    const details = cell(tr, "details");
    // The buttons stay in place and are shown or hidden, so keyboard focus is not lost on updates.
    const label = shortId(job.id);
    const watchAgain = button("Watch again", `Watch job ${label} again`, () => this.#options.onWatchAgain(job.id));
    const cancel = button("Cancel", `Cancel job ${label}`, () => this.#options.onCancel(job.id));
    cell(tr, "actions").append(watchAgain, cancel);
    const row: Row = { job, tr, state, timeLeft, details, cancel, watchAgain, problem: undefined, busy: false };
    this.#insert(row);
    this.#rows.set(job.id, row);
    return row;
  }

  /** Newest first: before the first row created earlier than this one. */
  #insert(row: Row): void {
    const created = createdMs(row.job);
    const older = [...this.#options.body.rows].find((tr) => {
      const other = this.#rows.get(tr.dataset.jobId ?? "");
      return other !== undefined && createdMs(other.job) < created;
    });
    this.#options.body.insertBefore(row.tr, older ?? null);
  }

  #render(row: Row, now: number): void {
    const { job } = row;
    const name = stateName(job.state);
    row.tr.dataset.state = name;
    row.state.className = `badge state-${name.toLowerCase()}`;
    row.state.textContent = name;
    setText(row.timeLeft, job.state === JobState.PENDING ? timeLeftText(job, now) : "–");

    row.details.replaceChildren();
    if (job.state === JobState.ERROR) {
      row.details.append(span("job-error", job.errorMessage || "failed"));
    } else if (job.state === JobState.PENDING && job.shouldError) {
      row.details.append(span("muted", "will end in error"));
    }
    if (row.problem !== undefined) {
      const problem = span("watch-problem", "");
      const title = document.createElement("strong");
      title.textContent = row.problem.title;
      problem.append(title, row.problem.text);
      row.details.append(problem);
    }

    row.watchAgain.hidden = row.problem === undefined || isTerminal(job);
    row.cancel.hidden = job.state !== JobState.PENDING;
    row.watchAgain.disabled = row.busy;
    row.cancel.disabled = row.busy;
  }
}

function timeLeftText(job: Job, now: number): string {
  if (job.estimatedCompletionTime === undefined) {
    return "";
  }
  const left = timestampMs(job.estimatedCompletionTime) - now;
  return left > 0 ? formatTimeLeft(left) : "finishing…";
}

function createdMs(job: Job): number {
  return job.createTime === undefined ? 0 : timestampMs(job.createTime);
}

function shortId(id: string): string {
  return id.slice(0, 8);
}

function cell(tr: HTMLTableRowElement, className = ""): HTMLTableCellElement {
  const td = tr.insertCell();
  td.className = className;
  return td;
}

function span(className: string, text: string): HTMLSpanElement {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) {
    element.textContent = text;
  }
}

function button(text: string, label: string, onClick: () => void): HTMLButtonElement {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "secondary small";
  element.textContent = text;
  element.setAttribute("aria-label", label);
  element.hidden = true;
  element.addEventListener("click", onClick);
  return element;
}
