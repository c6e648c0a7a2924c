/**
 * Helpers of the chat e2e tests: cutting every open connection (a reload), and waiting for a
 * condition. The chat itself is test/support/node-chat.ts.
 */
/**
 * Lets a test cut every connection `fetch` has open, as a reload or a lost network would,
 * without calling the chat's `stop()`. Installed on `globalThis.fetch`, which the default
 * transport uses.
 */
export function cuttableFetch(): { cut(): void; restore(): void } {
  const real = globalThis.fetch;
  const open = new Set<AbortController>();
  globalThis.fetch = (input, init = {}) => {
    const controller = new AbortController();
    init.signal?.addEventListener("abort", () => controller.abort(init.signal?.reason));
    open.add(controller);
    return real(input, { ...init, signal: controller.signal });
  };
  return {
    cut() {
      for (const controller of open) controller.abort(new TypeError("fetch failed: network"));
      open.clear();
    },
    restore() {
      globalThis.fetch = real;
    },
  };
}

/** Records the URL of every request `fetch` sends until `restore()`. */
export function countingFetch(): { urls: string[]; restore(): void } {
  const real = globalThis.fetch;
  const urls: string[] = [];
  globalThis.fetch = (input, init) => {
    urls.push(input instanceof Request ? input.url : String(input));
    return real(input, init);
  };
  return {
    urls,
    restore() {
      globalThis.fetch = real;
    },
  };
}

export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
