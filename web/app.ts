// The page's script: a form to start jobs (simulated, or of a kind for a worker), and a table of
// jobs, a page at a time, its pending ones followed live over one stream (the client's watchMany).
// Bundled by web/build-page.ts; the server sends it as is.
import { createConnectTransport } from "@connectrpc/connect-web";
import { isTerminal, type Job, JobClient, JobNotFoundError, JobState, type Logger } from "../client/index.js";
import { AlertBox } from "./alert-box.js";
import { ApiKey, apiKeyProblem } from "./api-key.js";
import { CreateForm, type NewJob } from "./create-form.js";
import { API_KEY_FIELD_ID, describeError } from "./describe-error.js";
import { stateName } from "./format.js";
import { JobPager } from "./job-pager.js";
import { JobTable } from "./job-table.js";
import { pageApi } from "./page-api.js";
import { PageWatch } from "./page-watch.js";

window.jobs = pageApi;

/** How often the countdowns are redrawn, in ms. */
const TICK_MS = 250;
/** The jobs in a page of the list, newest first. */
const PAGE_SIZE = 50;

// The client retries quietly; its warnings say why, in the browser's console.
const logger: Logger = {
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};
const apiKey = new ApiKey();
// One transport for every call, so the key goes with each of them, watches included.
const transport = createConnectTransport({ baseUrl: location.origin, interceptors: [apiKey.interceptor] });
const client = new JobClient({ transport, logger });

const keyForm = byId("key-form", HTMLFormElement);
const keyInput = byId(API_KEY_FIELD_ID, HTMLInputElement);
const keyStatus = byId("key-status", HTMLSpanElement);
const createButton = byId("create", HTMLButtonElement);
const listStatus = byId("list-status", HTMLParagraphElement);
const jobsTable = byId("jobs", HTMLTableElement);
const announcer = byId("announcer", HTMLDivElement);

const form = new CreateForm({
  form: byId("create-form", HTMLFormElement),
  kind: byId("kind", HTMLInputElement),
  simulated: byId("simulated-fields", HTMLFieldSetElement),
  duration: byId("duration", HTMLInputElement),
  shouldError: byId("should-error", HTMLInputElement),
  ofKind: byId("kind-fields", HTMLFieldSetElement),
  input: byId("input", HTMLTextAreaElement),
  maxAttempts: byId("max-attempts", HTMLInputElement),
  problem: byId("create-problem", HTMLParagraphElement),
});
const alertBox = new AlertBox({
  box: byId("alert", HTMLDivElement),
  text: byId("alert-text", HTMLParagraphElement),
  fix: byId("alert-fix", HTMLButtonElement),
  close: byId("alert-close", HTMLButtonElement),
});
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
const followed = new PageWatch({
  watch: (jobIds, signal) => client.watchMany(jobIds, { signal }),
  onJob: show,
  onError: (jobIds, error) => {
    // Jobs that are gone (past their retention) say so on their rows, the others are followed
    // again. Any other failure (the client gave up retrying) shows on every row it followed,
    // each with its Watch again button.
    const gone = error instanceof JobNotFoundError ? new Set(error.jobIds) : new Set(jobIds);
    for (const jobId of jobIds) {
      const job = table.get(jobId);
      if (gone.has(jobId)) {
        table.setProblem(jobId, describeError(error));
      } else if (job !== undefined) {
        watch(job);
      }
    }
  },
});
const pager = new JobPager({
  elements: {
    refresh: byId("refresh", HTMLButtonElement),
    pager: byId("pager", HTMLElement),
    newer: byId("newer", HTMLButtonElement),
    older: byId("older", HTMLButtonElement),
    pageNumber: byId("page-number", HTMLSpanElement),
    status: listStatus,
  },
  pageSize: PAGE_SIZE,
  list: (request) => client.listJobs(request),
  showPage: showOnly,
  onError: (error) => alertBox.show(describeError(error)),
});

function watch(job: Job): void {
  if (!isTerminal(job)) {
    followed.add(job.id);
  }
}

function show(job: Job): void {
  const before = table.get(job.id);
  table.show(job);
  if (isTerminal(job)) {
    followed.forget(job.id);
    if (before?.state === JobState.PENDING) {
      announcer.textContent = `Job ${job.id.slice(0, 8)} ${stateName(job.state).toLowerCase()}.`;
    }
  }
  jobsTable.hidden = table.size === 0;
}

/** Shows these jobs only: the rows (and watches) of any others go. */
function showOnly(jobs: Job[]): void {
  followed.forget(...table.keepOnly(new Set(jobs.map((job) => job.id))));
  for (const job of jobs) {
    show(job);
    watch(job);
  }
  jobsTable.hidden = table.size === 0;
}

function send(job: NewJob): Promise<Job | undefined> {
  if (job.type === "simulated") {
    return client.createJob({ processingDurationMs: job.processingDurationMs, shouldError: job.shouldError });
  }
  return client.createJob({ kind: job.kind, input: job.input, maxAttempts: job.maxAttempts });
}

async function create(): Promise<void> {
  const newJob = form.read();
  if (newJob === undefined) {
    return;
  }
  createButton.disabled = true;
  try {
    const job = await send(newJob);
    alertBox.hide();
    if (!pager.onFirstPage) {
      // The new job is the newest: show the page it is on.
      await pager.first();
    } else if (job !== undefined) {
      show(job);
      watch(job);
      listStatus.textContent = "";
    }
  } catch (error) {
    alertBox.show(describeError(error));
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

/** Uses the key typed in for every call from now on, and lists the jobs it may see. */
function useKey(): void {
  const key = keyInput.value.trim();
  const problem = apiKeyProblem(key);
  if (problem !== undefined) {
    keyStatus.textContent = problem;
    keyInput.setAttribute("aria-invalid", "true");
    keyInput.focus();
    return;
  }
  apiKey.set(key);
  keyInput.removeAttribute("aria-invalid");
  keyStatus.textContent = keyText();
  alertBox.hide();
  // Each key sees only its own jobs: none of those shown stays.
  showOnly([]);
  void pager.first();
}

function keyText(): string {
  return apiKey.value === "" ? "No key sent." : "Key in use, kept in this tab only.";
}

function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`the page has no ${type.name} #${id}`);
  }
  return element;
}

byId("create-form", HTMLFormElement).addEventListener("submit", (event) => {
  event.preventDefault();
  void create();
});
keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  useKey();
});
keyInput.value = apiKey.value;
keyStatus.textContent = apiKey.value === "" ? "" : keyText();
setInterval(() => table.tick(), TICK_MS);
void pager.load();
