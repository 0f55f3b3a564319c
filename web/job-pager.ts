import type { Job, JobPage } from "../client/index.js";

export interface JobPagerElements {
  refresh: HTMLButtonElement;
  /** Holds the Newer and Older buttons; hidden while there is only one page. */
  pager: HTMLElement;
  newer: HTMLButtonElement;
  older: HTMLButtonElement;
  pageNumber: HTMLElement;
  /** Says what the list shows, or that it could not be loaded. */
  status: HTMLElement;
}

export interface JobPagerOptions {
  elements: JobPagerElements;
  /** The jobs in a page, newest first. */
  pageSize: number;
  /** Lists one page (JobClient.listJobs). */
  list(request: { pageSize: number; pageToken: string }): Promise<JobPage>;
  /** Shows the jobs of the page loaded, in place of those shown. */
  showPage(jobs: Job[]): void;
  /** A listing failed. */
  onError(error: unknown): void;
}

/**
 * Where the page is in the list of jobs, newest first: the ListJobs page_token of the page shown
 * and of every newer page before it (to go back), and the next_page_token of the one shown.
 * The server's tokens go only towards older jobs, so "Newer" returns to a token kept here.
 */
class PageCursor {
  /** The tokens of the pages from the newest ("") to the one shown. */
  readonly #tokens: string[] = [""];
  /** The shown page's next_page_token: "" while it is the last page (or not yet loaded). */
  #next = "";

  /** The page_token that lists the page shown. */
  get token(): string {
    return this.#tokens.at(-1) ?? "";
  }

  /** The page shown, 1 for the newest jobs. */
  get number(): number {
    return this.#tokens.length;
  }

  get hasOlder(): boolean {
    return this.#next !== "";
  }

  get hasNewer(): boolean {
    return this.#tokens.length > 1;
  }

  /** Records the next_page_token of the page shown, as its ListJobs answered. */
  loaded(nextPageToken: string): void {
    this.#next = nextPageToken;
  }

  /** Moves to the next older page; load it with `token`. */
  older(): void {
    if (this.#next !== "") {
      this.#tokens.push(this.#next);
      this.#next = "";
    }
  }

  /** Moves back to the previous newer page. */
  newer(): void {
    if (this.#tokens.length > 1) {
      this.#tokens.pop();
      this.#next = "";
    }
  }

  /** Moves to the newest page. */
  first(): void {
    this.#tokens.length = 1;
    this.#next = "";
  }
}

/**
 * The list of jobs a page at a time, newest first: loads the page shown (Refresh), the next
 * older one and back (Older, Newer), following ListJobs' page tokens.
 */
export class JobPager {
  readonly #options: JobPagerOptions;
  readonly #cursor = new PageCursor();
  #loading = false;
  /** Counts the loads begun: only the latest one's answer is shown. */
  #loads = 0;

  constructor(options: JobPagerOptions) {
    this.#options = options;
    const { refresh, newer, older } = options.elements;
    refresh.addEventListener("click", () => void this.load());
    older.addEventListener("click", () => this.#move(() => this.#cursor.older()));
    newer.addEventListener("click", () => this.#move(() => this.#cursor.newer()));
  }

  /** Whether the newest jobs are shown (a job just created belongs there). */
  get onFirstPage(): boolean {
    return this.#cursor.number === 1;
  }

  /** Loads the newest page. */
  first(): Promise<void> {
    this.#cursor.first();
    return this.load();
  }

  /** Loads the page shown again. */
  async load(): Promise<void> {
    const { elements, pageSize } = this.#options;
    const load = ++this.#loads;
    this.#setLoading(true);
    try {
      const { jobs, nextPageToken } = await this.#options.list({ pageSize, pageToken: this.#cursor.token });
      if (load !== this.#loads) {
        // Another page was asked for meanwhile (or the API key changed): its answer will be shown.
        return;
      }
      this.#cursor.loaded(nextPageToken);
      this.#options.showPage(jobs);
      elements.status.textContent = this.#statusText(jobs.length);
    } catch (error) {
      if (load === this.#loads) {
        elements.status.textContent = "The jobs could not be loaded.";
        this.#options.onError(error);
      }
    } finally {
      if (load === this.#loads) {
        this.#setLoading(false);
      }
    }
  }

  #move(step: () => void): void {
    if (!this.#loading) {
      step();
      void this.load();
    }
  }

  #statusText(count: number): string {
    if (this.#cursor.number > 1) {
      return count === 0 ? "No older jobs." : `Older jobs, page ${this.#cursor.number}.`;
    }
    if (count === 0) {
      return "No jobs yet: create one above.";
    }
    return this.#cursor.hasOlder ? `The newest ${this.#options.pageSize} jobs.` : "";
  }

  #setLoading(loading: boolean): void {
    const { refresh, pager, newer, older, pageNumber } = this.#options.elements;
    this.#loading = loading;
    refresh.disabled = loading;
    newer.disabled = loading || !this.#cursor.hasNewer;
    older.disabled = loading || !this.#cursor.hasOlder;
    pager.hidden = !this.#cursor.hasNewer && !this.#cursor.hasOlder;
    pageNumber.textContent = `Page ${this.#cursor.number}`;
  }
}
