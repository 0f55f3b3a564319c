import { SingleBar } from "cli-progress";

/** A bar on a terminal, drawn at a fraction from 0 to 1 with its format's fields. */
export interface LiveBar {
  /** Draws the bar at `fraction` with `payload` (the format's other fields), starting it if it is not shown. */
  show(fraction: number, payload: Record<string, string | number>): void;
  /** Whether it is on the terminal now. */
  readonly shown: boolean;
  /** Takes it off the terminal, if it is there. */
  stop(): void;
}

/** The bar's resolution: fractions are drawn to a thousandth. */
const STEPS = 1_000;

/** The CLI's one look of a progress bar (cli-progress's SingleBar), with `format` for its line. */
export function createLiveBar(options: { stream: NodeJS.WritableStream; format: string; clearOnComplete?: boolean }): LiveBar {
  const bar = new SingleBar({
    stream: options.stream,
    format: options.format,
    barsize: 30,
    fps: 10,
    hideCursor: true,
    clearOnComplete: options.clearOnComplete ?? false,
    barCompleteChar: "\u2588",
    barIncompleteChar: "\u2591",
  });
  return {
    show(fraction, payload) {
      const value = Math.round(fraction * STEPS);
      if (bar.isActive) {
        bar.update(value, payload);
      } else {
        bar.start(STEPS, value, payload);
      }
    },
    get shown() {
      return bar.isActive;
    },
    stop() {
      if (bar.isActive) {
        bar.stop();
      }
    },
  };
}
