import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root: children run from it, so `--import tsx` and `proto/` resolve as in a clone. */
export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A bench child process (a server under test or a load generator) driven over IPC. */
export interface BenchChild {
  pid: number;
  /** What the child sent once it was ready, such as its URL. */
  ready: Record<string, unknown>;
  /** Sends a command to the child's serveParent handler and resolves with its answer. */
  request<T>(type: string, value?: unknown, timeoutMs?: number): Promise<T>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface StartChildOptions {
  /** Arguments after the file. */
  args?: string[];
  /** Node flags besides `--import tsx`, such as `--expose-gc`. */
  nodeFlags?: string[];
  /** Answers the child's askParent calls (for example: how many waits does the server hold?). */
  onAsk?: (value: unknown) => Promise<unknown>;
  /** How long the child may take to say it is ready. @default 30_000 */
  readyTimeoutMs?: number;
}

interface Message {
  kind: "ready" | "reply" | "error" | "ask";
  id?: number;
  value?: unknown;
}

const running = new Set<ChildProcess>();

/** Kills every child process still running (SIGKILL): used on exit, failure and time-out. */
export function killChildren(): void {
  for (const child of running) {
    child.kill("SIGKILL");
  }
  running.clear();
}

/** Registers a process started elsewhere (such as `server/main.ts`) so killChildren ends it too. */
export function trackProcess(child: ChildProcess): void {
  running.add(child);
  child.once("exit", () => running.delete(child));
}

/** Forks `file` (TypeScript, relative to the repository root) with tsx and waits for its ready message. */
export async function startChild(file: string, options: StartChildOptions = {}): Promise<BenchChild> {
  const child = fork(file, options.args ?? [], {
    cwd: REPO_ROOT,
    execArgv: ["--import", "tsx", ...(options.nodeFlags ?? [])],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  trackProcess(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  void exited.then(() => {
    for (const { reject } of pending.values()) {
      reject(new Error(`${file} exited (${child.exitCode ?? child.signalCode})`));
    }
    pending.clear();
  });

  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} was not ready within its time`)), options.readyTimeoutMs ?? 30_000);
    void exited.then(() => reject(new Error(`${file} exited before it was ready`)));
    child.on("message", (raw) => {
      const message = raw as Message;
      if (message.kind === "ready") {
        clearTimeout(timer);
        resolve(message.value as Record<string, unknown>);
      } else if (message.kind === "ask") {
        const ask = options.onAsk ?? (() => Promise.reject(new Error("no onAsk")));
        ask(message.value).then(
          (value) => child.connected && child.send({ kind: "answer", id: message.id, value }),
          (error: unknown) => child.connected && child.send({ kind: "answer", id: message.id, error: String(error) }),
        );
      } else if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.kind === "reply") {
          waiter?.resolve(message.value);
        } else {
          waiter?.reject(new Error(`${file}: ${String(message.value)}`));
        }
      }
    });
  }).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw error;
  });

  return {
    pid: child.pid as number,
    ready,
    request<T>(type: string, value?: unknown, timeoutMs = 120_000): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${file}: "${type}" took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (answer) => {
            clearTimeout(timer);
            resolve(answer as T);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ kind: "request", id, type, value });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      child.kill("SIGTERM");
      const grace = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(grace);
    },
  };
}
