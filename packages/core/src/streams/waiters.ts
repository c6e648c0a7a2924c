/**
 * In-process wake-ups for long-poll and SSE readers. Writers call `notify()` after they
 * commit; every pending waiter resolves and re-reads. One instance per stream.
 */
export class Waiters {
  private readonly pending = new Set<() => void>();

  get size(): number {
    return this.pending.size;
  }

  wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.pending.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener("abort", done);
      this.pending.add(done);
    });
  }

  notify(): void {
    for (const wake of [...this.pending]) wake();
  }
}
