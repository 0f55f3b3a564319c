// A playground for the client library against a running server:
//   npm start            (in one terminal)
//   npm run demo [url]   (in another; the URL also comes from JOBS_URL)
// It starts one job of each kind at once, prints every change it sees, then one line per job
// saying how it ended and how long that took.

import {
  DeadlineExceededError,
  JOB_STATUS,
  type Job,
  JobClient,
  JobState,
  type Logger,
  NetworkError,
  POLLING_MODES,
} from "../client/index.js";

const baseUrl = process.argv[2] ?? process.env.JOBS_URL ?? "http://127.0.0.1:8000";

// The client calls its logger as (fields, message); console wants the message first.
const logger: Logger = {
  warn: (fields, message) => console.warn(`  ! ${message}`, fields),
  error: (fields, message) => console.error(`  ! ${message}`, fields),
};
const client = new JobClient({ baseUrl, logger });

function describe(job: Job): string {
  const state = JobState[job.state] ?? String(job.state);
  const why = job.errorMessage === "" ? "" : `: ${job.errorMessage}`;
  return `${state} (version ${job.version})${why}`;
}

/** Prints each new version of a job as awaitCompletion sees it. */
function printUpdates(label: string): (job: Job) => void {
  return (job) => console.log(`  ${label.padEnd(10)} now ${describe(job)}`);
}

/** Runs one scenario and returns its summary line; expected failures become part of the line. */
async function scenario(label: string, run: () => Promise<Job>): Promise<string> {
  const started = Date.now();
  let outcome: string;
  try {
    outcome = `ended ${describe(await run())}`;
  } catch (error) {
    if (!(error instanceof DeadlineExceededError)) {
      throw error;
    }
    const last = error.lastJob === undefined ? "none" : describe(error.lastJob);
    outcome = `gave up (${error.name}), last seen ${last}`;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(2);
  return `${label.padEnd(10)} ${outcome} after ${seconds}s`;
}

async function main(): Promise<void> {
  // One cheap call first, with no retries, so an unreachable server fails fast with one line
  // instead of after the default five retries with backoff. Any other failure (an injected
  // fault, say) still means a server answered, and the retrying client copes with those.
  try {
    await new JobClient({ baseUrl, maxRetries: 0 }).listJobs({ pageSize: 1 });
  } catch (error) {
    if (error instanceof NetworkError) {
      console.error(`demo: cannot reach the job server at ${baseUrl} (start it with "npm start")`);
      process.exit(1);
    }
  }
  console.log(`Talking to ${baseUrl}; changes as they arrive:`);

  // All scenarios run at once: five creates and a few short polls stay well inside the
  // server's default rate limits (10 per second per caller for each).
  const results = await Promise.all([
    scenario("quick", async () => {
      const job = await client.createJob({ processingDurationMs: 1_000 });
      return client.awaitCompletion(job.id, { timeoutMs: 10_000, onUpdate: printUpdates("quick") });
    }),
    scenario("failing", async () => {
      // The positional form of the original client: createJob(processingDurationMs, shouldError).
      const job = await client.createJob(1_500, true);
      return client.awaitCompletion(job.id, { timeoutMs: 10_000, onUpdate: printUpdates("failing") });
    }),
    scenario("short", async () => {
      const job = await client.createJob({ processingDurationMs: 2_000 });
      return client.awaitCompletion(job.id, {
        mode: POLLING_MODES.SHORT,
        pollIntervalMs: 500,
        timeoutMs: 10_000,
        onUpdate: printUpdates("short"),
      });
    }),
    scenario("cancelled", async () => {
      const job = await client.createJob({ processingDurationMs: 60_000 });
      await client.cancelJob(job.id);
      return client.awaitCompletion(job.id, { timeoutMs: 10_000, onUpdate: printUpdates("cancelled") });
    }),
    scenario("timeout", async () => {
      // The job needs 5 s but we only wait 800 ms: awaitCompletion rejects with the job as last seen.
      const job = await client.createJob({ processingDurationMs: 5_000 });
      try {
        return await client.awaitCompletion(job.id, { timeoutMs: 800, onUpdate: printUpdates("timeout") });
      } finally {
        // Leave nothing running on the server on our behalf.
        await client.cancelJob(job.id).catch(() => undefined);
      }
    }),
  ]);

  console.log("\nHow each job ended:");
  for (const line of results) {
    console.log(`  ${line}`);
  }
  const pending = await client.listJobs({ state: JOB_STATUS.PENDING });
  console.log(`\nPending jobs on the server now (first page, any caller): ${pending.jobs.length}`);
}

await main();
