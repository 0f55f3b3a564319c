import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobState } from "../client/index.js";
import { SIMULATED_ERROR_MESSAGE } from "../server/stores/job-runner.js";
import { buildPage } from "../web/build-page.js";
import { type RunningServer, startServer } from "./support/start-server.js";

// The page at / in Debian's Chromium: it builds the page afresh, serves it from a real server
// and drives the form, the live list and the client library exposed on window.jobs.

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

  it("creates a job from the form and shows it reach COMPLETED, counting down meanwhile", async () => {
    await page.getByLabel("Duration (seconds)").fill("1");
    await page.getByRole("button", { name: "Create job" }).click();
    const row = page.locator("#jobs tbody tr").first();
    await expect.poll(() => row.getAttribute("data-state")).toBe("PENDING");
    await expect.poll(() => row.locator(".time-left").textContent()).toMatch(/^(1 s|finishing…)$/);
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 5_000 }).toBe("COMPLETED");
    expect(await row.locator(".badge").textContent()).toBe("COMPLETED");
    await expect.poll(() => row.getByRole("button", { name: /Cancel/ }).isVisible()).toBe(false);
  });

  it("shows a should_error job end in ERROR with its message, newest first", async () => {
    await page.getByLabel("Duration (seconds)").fill("0.5");
    await page.getByLabel(/End in error/).check();
    await page.getByRole("button", { name: "Create job" }).click();
    await page.getByLabel(/End in error/).uncheck();
    const rows = page.locator("#jobs tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    const row = rows.first();
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 5_000 }).toBe("ERROR");
    expect(await row.locator(".details").textContent()).toBe(SIMULATED_ERROR_MESSAGE);
  });

  it("cancels a pending job with its Cancel button", async () => {
    await page.getByLabel("Duration (seconds)").fill("60");
    await page.getByRole("button", { name: "Create job" }).click();
    const row = page.locator("#jobs tbody tr").first();
    await expect.poll(() => row.getAttribute("data-state")).toBe("PENDING");
    await row.getByRole("button", { name: /^Cancel job/ }).click();
    await expect.poll(() => row.getAttribute("data-state")).toBe("CANCELLED");
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

  it("lists the jobs made so far on a fresh load, newest first, and logs no errors", async () => {
    await page.reload();
    const states = page.locator("#jobs tbody tr");
    await expect.poll(() => states.count()).toBe(4);
    expect(await states.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-state")))).toEqual([
      "COMPLETED",
      "CANCELLED",
      "ERROR",
      "COMPLETED",
    ]);
    if (process.env.PAGE_SCREENSHOT !== undefined) {
      await page.screenshot({ path: process.env.PAGE_SCREENSHOT, fullPage: true });
    }
    expect(pageErrors).toEqual([]);
  });

  it("shows the client's NetworkError in the alert when a create cannot reach the server", async () => {
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
