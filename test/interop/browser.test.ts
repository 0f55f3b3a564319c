import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JobState } from "../../client/index.js";
import { WorkerService } from "../../gen/jobs/v1/worker_service_pb.js";
import type { ServerOptions } from "../../server/server-options.js";
import { SIMULATED_ERROR_MESSAGE } from "../../server/stores/job-runner.js";
import { buildPage } from "../../web/build-page.js";
import { type RunningServer, rawClient, startServer } from "../support/start-server.js";

// The page at / in Debian's Chromium: it builds the page afresh, serves it from a real server
// and drives the form, the live list and the client library exposed on window.jobs. Most tests
// share one page, so each reads only the rows of the jobs it made itself (by data-job-id); those
// that need a server of their own (API keys, a known set of jobs) open a page of their own on it.

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

  /** The Cancel buttons shown on the page. */
  function cancelButtons(): Locator {
    return page.locator("#jobs tbody tr").getByRole("button", { name: /^Cancel job/ });
  }

  /**
   * Starts a server of its own (on the same built page) and opens it in a fresh browser context
   * (its own sessionStorage). Both are closed by the returned close(), which the test calls in
   * `finally`; errors thrown in that page fail the test there.
   */
  async function openOwnServer(
    options: ServerOptions,
  ): Promise<{ server: RunningServer; page: Page; close(): Promise<void>; goto(): Promise<void> }> {
    const own = await startServer({ ...options, pageDir });
    const context = await browser!.newContext({ viewport: { width: 1100, height: 760 } });
    const ownPage = await context.newPage();
    const thrown: string[] = [];
    ownPage.on("pageerror", (error) => thrown.push(error.message));
    return {
      server: own,
      page: ownPage,
      goto: async () => {
        await ownPage.goto(own.url);
      },
      close: async () => {
        await context.close();
        await own.close();
        expect(thrown, "the page threw").toEqual([]);
      },
    };
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

  it("keeps every row's Cancel button within a 375 px wide screen, clickable, and cancels from there", async () => {
    const raw = rawClient(server!.url);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      made.push((await raw.createJob({ processingDuration: { seconds: 60n } })).job!.id);
    }
    await page.setViewportSize({ width: 375, height: 760 });
    try {
      await page.getByRole("button", { name: "Refresh" }).click();
      await expect.poll(() => cancelButtons().count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(made.length);
      // Nothing is wider than the screen: no control can be clipped off its side.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      for (const button of await cancelButtons().all()) {
        await button.scrollIntoViewIfNeeded();
        const box = await button.boundingBox();
        expect(box).not.toBeNull();
        expect(box!.x).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width).toBeLessThanOrEqual(375);
        expect(box!.y).toBeGreaterThanOrEqual(0);
        expect(box!.y + box!.height).toBeLessThanOrEqual(760);
        // Visible, enabled, not covered by anything: a click would land on it.
        await button.click({ trial: true, timeout: 2_000 });
      }
      const row = rowOf(made[0]!);
      await row.getByRole("button", { name: /^Cancel job/ }).click();
      await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("CANCELLED");
    } finally {
      await page.setViewportSize({ width: 1100, height: 760 });
      for (const jobId of made.slice(1)) {
        await raw.cancelJob({ jobId });
      }
    }
  });

  it("refuses an input that is not JSON in the page, saying so beside the form, and sends nothing", async () => {
    const creates: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (request.url().endsWith("/CreateJob")) {
        creates.push(request.url());
      }
    };
    page.on("request", onRequest);
    try {
      await page.getByLabel("Kind", { exact: true }).fill("demo");
      await page.getByLabel("Input (JSON)").fill('{"frames": 3,');
      await page.getByRole("button", { name: "Create job" }).click();
      await expect.poll(() => page.locator("#create-problem").textContent()).toContain("not valid JSON");
      expect(await page.getByLabel("Input (JSON)").getAttribute("aria-invalid")).toBe("true");
      expect(creates).toEqual([]);
    } finally {
      page.off("request", onRequest);
      await page.getByLabel("Input (JSON)").fill("");
      await page.getByLabel("Kind", { exact: true }).fill("");
    }
  });

  // Needs the server's WorkerService: it fails until the server implements it.
  it("shows a job of a kind wait for a worker, then its progress bar and message, its attempt, and its result", async () => {
    const worker = createClient(WorkerService, createConnectTransport({ baseUrl: server!.url }));
    const before = new Set(await rowIds());
    try {
      await page.getByLabel("Kind", { exact: true }).fill("demo");
      await page.getByLabel("Input (JSON)").fill('{"frames": 3}');
      await page.getByRole("button", { name: "Create job" }).click();
      const added = async () => (await rowIds()).filter((id) => !before.has(id));
      await expect.poll(async () => (await added()).length, { timeout: 10_000 }).toBe(1);
    } finally {
      await page.getByLabel("Input (JSON)").fill("");
      await page.getByLabel("Kind", { exact: true }).fill("");
    }
    const jobId = (await rowIds()).find((id) => !before.has(id))!;
    const row = rowOf(jobId);
    expect(await row.locator(".kind").textContent()).toBe("demo");
    await expect.poll(() => row.locator(".details").textContent(), { timeout: 10_000 }).toBe("waiting for a worker");

    const claim = await worker.claimJob({ kinds: ["demo"], wait: { seconds: 5n } });
    expect(claim.job?.id).toBe(jobId);
    const { leaseToken } = claim;
    await worker.heartbeat({ jobId, leaseToken, progress: { fraction: 0.4, message: "frame 2 of 3" } });
    const bar = row.getByRole("progressbar");
    await expect.poll(() => bar.evaluate((element) => (element as HTMLProgressElement).value), { timeout: 10_000 }).toBe(0.4);
    expect(await row.locator(".progress-text").textContent()).toBe("40%");
    expect(await row.locator(".progress-message").textContent()).toBe("frame 2 of 3");
    expect(await row.locator(".attempt").textContent()).toBe("attempt 1 of 3");
    expect(await row.getAttribute("data-state")).toBe("PENDING");

    await worker.heartbeat({ jobId, leaseToken, progress: { fraction: 0.9, message: "frame 3 of 3" } });
    await expect.poll(() => row.locator(".progress-message").textContent(), { timeout: 10_000 }).toBe("frame 3 of 3");

    await worker.completeJob({ jobId, leaseToken, result: fromJson(ValueSchema, { frames: 3, seconds: 1.5 }) });
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("COMPLETED");
    expect(await row.locator(".result .json").textContent()).toBe('{"frames":3,"seconds":1.5}');
    expect(await row.getByRole("progressbar").count()).toBe(0);
    expect(await row.getByRole("button", { name: /Cancel/ }).isVisible()).toBe(false);
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

  it("follows a dozen pending jobs live over one stream, not a long wait each, and still creates meanwhile", async () => {
    const own = await openOwnServer({ createRate: 0 });
    try {
      const kind = "page.many";
      const raw = rawClient(own.server.url);
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const { job } = await raw.createJob({ kind, input: fromJson(ValueSchema, i) });
        ids.push(job!.id);
      }
      const calls: string[] = [];
      own.page.on("request", (request) => calls.push(new URL(request.url()).pathname.split("/").at(-1) ?? ""));
      await own.goto();
      const stateOf = (jobId: string) => own.page.locator(`#jobs tbody tr[data-job-id="${jobId}"]`).getAttribute("data-state");
      await expect.poll(() => stateOf(ids[0]!), { timeout: 10_000 }).toBe("PENDING");
      // Twelve held watches would take the browser's six connections: the create would not go out.
      await own.page.getByLabel("Duration (seconds)").fill("0.2");
      await own.page.getByRole("button", { name: "Create job" }).click();
      await expect.poll(() => own.page.locator('#jobs tbody tr[data-state="COMPLETED"]').count(), { timeout: 10_000 }).toBe(1);
      const worker = createClient(WorkerService, createConnectTransport({ baseUrl: own.server.url }));
      for (const _ of ids) {
        const claim = await worker.claimJob({ kinds: [kind] });
        await worker.completeJob({ jobId: claim.job!.id, leaseToken: claim.leaseToken });
      }
      for (const jobId of ids) {
        await expect.poll(() => stateOf(jobId), { timeout: 10_000 }).toBe("COMPLETED");
      }
      expect(calls.filter((call) => call === "GetStatus")).toEqual([]);
      // One stream for the twelve, and one more when the created job joined them.
      expect(calls.filter((call) => call === "WatchJobs").length).toBeLessThanOrEqual(3);
    } finally {
      await own.close();
    }
  });

  it("without an API key shows UNAUTHENTICATED pointing at the key field; with the key, lists and watches the jobs", async () => {
    const key = "page-test-key-0123456789";
    const own = await openOwnServer({ apiKeys: [key] });
    try {
      const raw = rawClient(own.server.url);
      const { job } = await raw.createJob(
        { processingDuration: { seconds: 1n } },
        { headers: { authorization: `Bearer ${key}` } },
      );
      await own.goto();
      const alert = own.page.getByRole("alert");
      await alert.waitFor({ timeout: 10_000 });
      expect(await alert.textContent()).toContain("UNAUTHENTICATED");
      expect(await alert.textContent()).toContain("API key field");
      expect(await own.page.locator("#list-status").textContent()).toBe("The jobs could not be loaded.");
      await own.page.getByRole("button", { name: "Enter API key" }).click();
      expect(await own.page.evaluate(() => document.activeElement?.id)).toBe("api-key");

      await own.page.getByLabel("API key").fill(key);
      await own.page.getByRole("button", { name: "Use key" }).click();
      const row = own.page.locator(`#jobs tbody tr[data-job-id="${job!.id}"]`);
      // Its end comes through the page's watch: its stream carries the key too.
      await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("COMPLETED");
      expect(await alert.isVisible()).toBe(false);

      // The key stays with the tab: a reload lists the jobs again without asking.
      await own.page.reload();
      await expect.poll(() => row.getAttribute("data-state"), { timeout: 10_000 }).toBe("COMPLETED");
    } finally {
      await own.close();
    }
  });

  it("pages past the newest 50: with 60 jobs, Older shows the 10 oldest and Newer the newest 50 again", async () => {
    const own = await openOwnServer({ createRate: 0 });
    try {
      const raw = rawClient(own.server.url);
      const made: string[] = [];
      for (let i = 0; i < 60; i++) {
        made.push((await raw.createJob({ processingDuration: { seconds: 0n } })).job!.id);
      }
      const newestFirst = [...made].reverse();
      await own.goto();
      const ids = () =>
        own.page.locator("#jobs tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.jobId ?? ""));
      await expect.poll(ids, { timeout: 10_000 }).toEqual(newestFirst.slice(0, 50));
      expect(await own.page.getByRole("button", { name: /Newer/ }).isDisabled()).toBe(true);

      await own.page.getByRole("button", { name: /Older/ }).click();
      await expect.poll(ids, { timeout: 10_000 }).toEqual(newestFirst.slice(50));
      expect(await own.page.locator("#page-number").textContent()).toBe("Page 2");
      expect(await own.page.getByRole("button", { name: /Older/ }).isDisabled()).toBe(true);

      await own.page.getByRole("button", { name: /Newer/ }).click();
      await expect.poll(ids, { timeout: 10_000 }).toEqual(newestFirst.slice(0, 50));
    } finally {
      await own.close();
    }
  });
});
