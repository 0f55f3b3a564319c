import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { isTerminal, type Job, JobState } from "../client/index.js";
import type { ErrorText } from "./describe-error.js";
import { formatDuration, formatTimeLeft, kindName, stateName } from "./format.js";
import { jobDetails } from "./job-details.js";

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

  /** Shows the job: adds its row in creation order, or updates it when this version is newer. */
  show(job: Job): void {
    let row = this.#rows.get(job.id);
    if (row === undefined) {
      row = this.#addRow(job);
    } else if (job.version <= row.job.version) {
      // Seen already: redrawing would only close a result the user has opened.
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

  /** Removes the rows of every job not in `jobIds` (another page was loaded); returns the ids removed. */
  keepOnly(jobIds: ReadonlySet<string>): string[] {
    const removed: string[] = [];
    for (const [jobId, row] of this.#rows) {
      if (!jobIds.has(jobId)) {
        row.tr.remove();
        this.#rows.delete(jobId);
        removed.push(jobId);
      }
    }
    return removed;
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
    const code = document.createElement("code");
    code.textContent = shortId(job.id);
    code.title = job.id;
    cell(tr, "Job", "id").append(code);
    const kind = cell(tr, "Kind", job.kind === "" ? "kind muted" : "kind");
    kind.textContent = kindName(job);
    const state = document.createElement("span");
    cell(tr, "State", "state").append(state);
    const timeLeft = cell(tr, "Time left", "num time-left");
    cell(tr, "Duration", "num duration").textContent =
      job.processingDuration === undefined ? "–" : formatDuration(durationMs(job.processingDuration));
    const created = document.createElement("time");
    if (job.createTime !== undefined) {
      const at = new Date(timestampMs(job.createTime));
      created.dateTime = at.toISOString();
      created.textContent = at.toLocaleTimeString();
    }
    cell(tr, "Created", "num created").append(created);
    const details = cell(tr, "Details", "details");
    // The buttons stay in place and are shown or hidden, so keyboard focus is not lost on updates.
    const label = shortId(job.id);
    const watchAgain = button("Watch again", `Watch job ${label} again`, () => this.#options.onWatchAgain(job.id));
    const cancel = button("Cancel", `Cancel job ${label}`, () => this.#options.onCancel(job.id));
    cell(tr, "Actions", "actions").append(watchAgain, cancel);
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
    row.details.replaceChildren(...jobDetails(job, row.problem));

    row.watchAgain.hidden = row.problem === undefined || isTerminal(job);
    row.cancel.hidden = job.state !== JobState.PENDING;
    row.watchAgain.disabled = row.busy;
    row.cancel.disabled = row.busy;
  }
}

function timeLeftText(job: Job, now: number): string {
  // A job of a kind ends when its worker says so: there is nothing to count down.
  if (job.estimatedCompletionTime === undefined) {
    return "–";
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

/** A cell; `label` names its column where the row is shown as a card (narrow screens, style.css). */
function cell(tr: HTMLTableRowElement, label: string, className: string): HTMLTableCellElement {
  const td = tr.insertCell();
  td.className = className;
  td.dataset.label = label;
  return td;
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
