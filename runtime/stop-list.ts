// Parts started one after another (servers, pools, workers), stopped in reverse order, each
// within a time limit: a part that cannot stop (its server already gone after a Ctrl-C) never
// keeps the others running. Used by `npm start` and the benchmarks that start servers.
export class StopList {
  private readonly parts: { name: string; stop: () => unknown }[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly limitMs: number,
    private readonly warn: (message: string, error?: unknown) => void,
  ) {}

  add(name: string, stop: () => unknown): void {
    this.parts.push({ name, stop });
  }

  /** Stops everything added so far, once; later calls wait for the same stop. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const { name, stop } of [...this.parts].reverse()) {
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.limitMs)));
        try {
          if ((await Promise.race([stop(), limit])) === 'late') this.warn(`${name} did not stop within ${this.limitMs / 1000} s; going on`);
        } catch (error) {
          this.warn(`could not stop ${name} cleanly: ${(error as Error)?.message ?? error}`, error);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.stopping;
  }
}
