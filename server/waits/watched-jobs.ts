/**
 * How many jobs each caller watches now on WatchJobs streams, within a cap per caller: what a
 * stream of many jobs costs beyond the one held wait it counts as.
 */
export class WatchedJobs {
  private readonly perCaller = new Map<string, number>();

  /** @param maxPerCaller the most jobs one caller may watch at once */
  constructor(private readonly maxPerCaller: number) {}

  /**
   * Takes `count` jobs for `caller`, or none and false when that would pass the cap. Returns the
   * function that gives them back (call it once).
   */
  take(caller: string, count: number): (() => void) | undefined {
    const watched = this.perCaller.get(caller) ?? 0;
    if (watched + count > this.maxPerCaller) {
      return undefined;
    }
    this.perCaller.set(caller, watched + count);
    let given = false;
    return () => {
      if (given) {
        return;
      }
      given = true;
      const left = (this.perCaller.get(caller) ?? count) - count;
      if (left <= 0) {
        this.perCaller.delete(caller);
      } else {
        this.perCaller.set(caller, left);
      }
    };
  }

  /** How many jobs `caller` watches now. */
  of(caller: string): number {
    return this.perCaller.get(caller) ?? 0;
  }
}
