import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JobState } from "../../client/index.js";
import { SIMULATED_ERROR_MESSAGE } from "../../server/stores/job-runner.js";
import { buildPage } from "../../web/build-page.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";

// The page at / in Debian's Chromium: it builds the page afresh, serves it from a real server
// and drives the form, the live list and the client library exposed on window.jobs. The tests
// share one page, so each reads only the rows of the jobs it made itself (by data-job-id).

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const required = (process.env.REQUIRE_BROWSER ?? "") !== "" && process.env.REQUIRE_BROWSER !== "0";
if (!haveChromium && !required) {
  console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium; REQUIRE_BROWSER=1 fails instead)`);
}

describe.skipIf(!haveChromium && !required)("the browser page", () => {
  let pageDir: string | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  /** Set by a test that makes the page log errors on purpose. */
  let errorsExpected = false;

  /** The rows on the page, top to bottom: the id and state of each job. */
  function rows(): Promise<{ id: string; state: string }[]> {
    return page
      .locator("#jobs tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) => ({ id: (tr as HTMLElement).dataset.jobId ?? "", state: (tr as HTMLElement).dataset.state ?? "" })),
      );
  }

  async function rowIds(): Promise<string[]> {
    return (await rows()).map((row) => row.id);
  }

  function rowOf(jobId: string): Locator {
    return page.locator(`#jobs tbody tr[data-job-id="${jobId}"]`);
  }

  /** Creates a job with the form and resolves with its id, once its row is on the page. */
  async function createWithForm(seconds: string, { error = false } = {}): Promise<string> {
    const before = new Set(await rowIds());
    await page.getByLabel("Duration (seconds)").fill(seconds);
    await page.getByLabel(/End in error/).setChecked(error);
    await page.getByRole("button", { name: "Create job" }).click();
    const added = async () => (await rowIds()).filter((id) => !before.has(id));
    await expect.poll(async () => (await added()).length, { timeout: 10_000 }).toBe(1);
    await page.getByLabel(/End in error/).setChecked(false);
    return (await added())[0]!;
  }

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(`REQUIRE_BROWSER is set but ${CHROMIUM} is missing: apt-get install chromium`);
    }
    pageDir = await mkdtemp(join(tmpdir(), "jobs-page-"));
    await buildPage({ outDir: pageDir });
    server = await startServer({ pageDir });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      timeout: 30_000,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    page.on("pageerror", (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") {
        pageErrors.push(`console: ${message.text()}`);
      }
    });
    await page.goto(server.url);
    await page.getByText("No jobs yet: create one above.").waitFor({ timeout: 5_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (pageDir !== undefined) {
      await rm(pageDir, { recursive: true, force: true });
    }
  }, 60_000);

  afterEach(() => {
    const errors = pageErrors.splice(0);
    if (!errorsExpected) {
      expect(errors, "the page logged errors").toEqual([]);
    }
    errorsExpected = false;
  });

  it("creates a job from the form and shows it reach COMPLETED, counting down meanwhile", async () => {
    const row = rowOf(await createWithForm("3"));
    // Every countdown text shown until the end: whole seconds, going down.
    const countdown: string[] = [];
    await expect
      .poll(
        async () => {
          const left = (await row.locator(".time-left").textContent()) ?? "";
          if (/^\d+ s$/.test(left) && countdown.at(-1) !== left) {
            countdown.push(left);
          }
          return row.getAttribute("data-state");
        },
        { timeout: 15_000, interval: 50 },
      )
      .toBe("COMPLETED");
    expect(countdown.length).toBeGreaterThanOrEqual(2);
    const seconds = countdown.map((text) => parseInt(text, 10));
    expect(seconds).toEqual([...seconds].sort((a, b) => b - a));
    expect(seconds[0]).toBeLessThanOrEqual(3);
    expect(await row.locator(".badge").textContent()).toBe("COMPLETED");
    await expect.poll(() => row.getByRole("button", { name: /Cancel/ }).isVisible()).toBe(false);
  });

  it("shows a should_error job end in ERROR with its message, newest first", async () => {
    const older = await createWithForm("60");
    const failing = await createWithForm("0.5", { error: true });
    expect((await rowIds()).filter((id) => id === older || id === failing)).toEqual([failing, older]);
    const row = rowOf(failing);
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("ERROR");
    expect(await row.locator(".details").textContent()).toBe(SIMULATED_ERROR_MESSAGE);
    await rawClient(server!.url).cancelJob({ jobId: older });
  });

  it("cancels a pending job with its Cancel button", async () => {
    const row = rowOf(await createWithForm("60"));
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("PENDING");
    await row.getByRole("button", { name: /^Cancel job/ }).click();
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("CANCELLED");
  });

  it("runs the client library in the page: awaitCompletion resolves with the completed job", async () => {
    const result = await page.evaluate(async () => {
      const { JobClient, POLLING_MODES } = window.jobs;
      const client = new JobClient({ baseUrl: location.origin });
      const job = await client.createJob({ processingDurationMs: 300 });
      const seen: number[] = [];
      const done = await client.awaitCompletion(job.id, {
        mode: POLLING_MODES.LONG,
        timeoutMs: 10_000,
        onUpdate: (update) => seen.push(update.state),
      });
      return { id: done.id, created: job.id, state: done.state, version: String(done.version), seen };
    });
    expect(result.id).toBe(result.created);
    expect(result.state).toBe(JobState.COMPLETED);
    expect(result.version).toBe("2");
    expect(result.seen).toEqual([JobState.PENDING, JobState.COMPLETED]);
  });

  it("lists the jobs on a fresh load, newest first, those made elsewhere too, and logs no errors", async () => {
    // Made elsewhere (not by this page), each ended before the next is made.
    const raw = rawClient(server!.url);
    const made: { id: string; state: string }[] = [];
    for (const [processingDuration, shouldError, cancel, state] of [
      [{ seconds: 60n }, false, true, "CANCELLED"],
      [{ seconds: 0n }, true, false, "ERROR"],
      [{ seconds: 0n }, false, false, "COMPLETED"],
    ] as const) {
      const { job } = await raw.createJob({ processingDuration, shouldError });
      if (cancel) {
        await raw.cancelJob({ jobId: job!.id });
      } else {
        await raw.getStatus({ jobId: job!.id, wait: { seconds: 10n }, knownVersion: 1n });
      }
      made.push({ id: job!.id, state });
    }
    await page.reload();
    const ids = new Set(made.map((job) => job.id));
    const listed = async () => (await rows()).filter((row) => ids.has(row.id));
    await expect.poll(async () => (await listed()).length, { timeout: 10_000 }).toBe(made.length);
    expect(await listed()).toEqual([...made].reverse());
    if (process.env.PAGE_SCREENSHOT !== undefined) {
      await page.screenshot({ path: process.env.PAGE_SCREENSHOT, fullPage: true });
    }
  });

  it("shows the client's NetworkError in the alert when a create cannot reach the server", async () => {
    // The refused requests are logged by the page, as they should be.
    errorsExpected = true;
    await page.route("**/jobs.v1.JobService/CreateJob", (route) => route.abort("connectionrefused"));
    try {
      await page.getByRole("button", { name: "Create job" }).click();
      // The client retries first (five times, with backoff) before it gives up.
      const alert = page.getByRole("alert");
      await alert.waitFor({ timeout: 15_000 });
      expect(await alert.textContent()).toContain("NetworkError:");
      await page.getByRole("button", { name: "Dismiss" }).click();
      expect(await alert.isVisible()).toBe(false);
    } finally {
      await page.unroute("**/jobs.v1.JobService/CreateJob");
    }
  });
});
