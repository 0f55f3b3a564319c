// The page's script: a form to start jobs, and a table of jobs each watched live with the client
// library (awaitCompletion, LONG mode). Bundled by web/build-page.ts; the server sends it as is.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { isTerminal, type Job, JobClient, JobState, type Logger, POLLING_MODES } from "../client/index.js";
import { describeError, type ErrorText } from "./describe-error.js";
import { stateName } from "./format.js";
import { JobTable } from "./job-table.js";
import { pageApi } from "./page-api.js";
import { WatchPool } from "./watch-pool.js";

window.jobs = pageApi;

/** Long waits held at once: two of the browser's six connections per server stay free for the buttons. */
const MAX_WATCHES = 4;
/** How often the countdowns are redrawn, in ms. */
const TICK_MS = 250;
/** The jobs listed on load, newest first. */
const PAGE_SIZE = 50;

// The client retries quietly; its warnings say why, in the browser's console.
const logger: Logger = {
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};
const client = new JobClient({ baseUrl: location.origin, logger });

const form = byId("create-form", HTMLFormElement);
const durationInput = byId("duration", HTMLInputElement);
const shouldErrorInput = byId("should-error", HTMLInputElement);
const createButton = byId("create", HTMLButtonElement);
const alertBox = byId("alert", HTMLDivElement);
const alertText = byId("alert-text", HTMLParagraphElement);
const refreshButton = byId("refresh", HTMLButtonElement);
const listStatus = byId("list-status", HTMLParagraphElement);
const jobsTable = byId("jobs", HTMLTableElement);
const announcer = byId("announcer", HTMLDivElement);

const table = new JobTable({
  body: jobsTable.tBodies[0] ?? jobsTable.createTBody(),
  onCancel: (jobId) => void cancel(jobId),
  onWatchAgain: (jobId) => {
    const job = table.get(jobId);
    if (job !== undefined) {
      table.setProblem(jobId, undefined);
      watch(job);
    }
  },
});
const pool = new WatchPool({ maxActive: MAX_WATCHES, watch: follow });

/** Follows one job to its end, showing every version; a failure shows on its row. */
async function follow(jobId: string, signal: AbortSignal): Promise<void> {
  try {
    const job = await client.awaitCompletion(jobId, { mode: POLLING_MODES.LONG, signal, onUpdate: show });
    show(job);
  } catch (error) {
    // The pool stopped this watch (to watch a job ending sooner): it is quietly queued again.
    if (!signal.aborted) {
      table.setProblem(jobId, describeError(error));
    }
  }
}

function watch(job: Job): void {
  if (!isTerminal(job)) {
    const endsAt = job.estimatedCompletionTime === undefined ? Infinity : timestampMs(job.estimatedCompletionTime);
    pool.add({ jobId: job.id, endsAt });
  }
}

function show(job: Job): void {
  const before = table.get(job.id);
  table.show(job);
  if (isTerminal(job)) {
    pool.forget(job.id);
    if (before?.state === JobState.PENDING) {
      announcer.textContent = `Job ${job.id.slice(0, 8)} ${stateName(job.state).toLowerCase()}.`;
    }
  }
  jobsTable.hidden = table.size === 0;
}

async function create(): Promise<void> {
  const seconds = durationInput.valueAsNumber;
  if (!Number.isFinite(seconds) || seconds < 0) {
    showAlert({ title: "Invalid duration", text: "Enter a number of seconds, 0 or more." });
    durationInput.focus();
    return;
  }
  createButton.disabled = true;
  try {
    const job = await client.createJob({
      processingDurationMs: Math.round(seconds * 1000),
      shouldError: shouldErrorInput.checked,
    });
    hideAlert();
    show(job);
    watch(job);
    listStatus.textContent = "";
  } catch (error) {
    showAlert(describeError(error));
  } finally {
    createButton.disabled = false;
  }
}

async function cancel(jobId: string): Promise<void> {
  table.setBusy(jobId, true);
  try {
    show(await client.cancelJob(jobId));
  } catch (error) {
    table.setProblem(jobId, describeError(error));
  } finally {
    table.setBusy(jobId, false);
  }
}

async function loadJobs(): Promise<void> {
  refreshButton.disabled = true;
  try {
    const { jobs, nextPageToken } = await client.listJobs({ pageSize: PAGE_SIZE });
    for (const job of jobs) {
      show(job);
      watch(job);
    }
    listStatus.textContent =
      table.size === 0 ? "No jobs yet: create one above." : nextPageToken === "" ? "" : `Showing the newest ${PAGE_SIZE} jobs.`;
  } catch (error) {
    listStatus.textContent = "The jobs could not be loaded.";
    showAlert(describeError(error));
  } finally {
    refreshButton.disabled = false;
  }
}

function showAlert(error: ErrorText): void {
  const title = document.createElement("strong");
  title.textContent = `${error.title}: `;
  alertText.replaceChildren(title, error.text);
  alertBox.hidden = false;
}

function hideAlert(): void {
  alertBox.hidden = true;
  alertText.replaceChildren();
}

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`the page has no ${type.name} #${id}`);
  }
  return element;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void create();
});
refreshButton.addEventListener("click", () => void loadJobs());
byId("alert-close", HTMLButtonElement).addEventListener("click", hideAlert);
setInterval(() => table.tick(), TICK_MS);
void loadJobs();
