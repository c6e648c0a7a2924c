import type { Clock } from "../clock.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { sseComment } from "../wire/sse.ts";

export interface LiveSseOptions {
  readonly request: Request;
  readonly ledger: Ledger;
  readonly clock: Clock;
  readonly keepAliveMs: number;
  /** Close after this long (clients reconnect from their offset); Infinity for a stream bound to one run. */
  readonly maxMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Written first, before anything `next` produces. */
  readonly first?: string;
  /**
   * The text to send for what the reader has not seen yet, or undefined when
   * there is nothing; `end` closes the stream once that text is written.
   */
  readonly next: () => { readonly text: string; readonly end?: boolean } | undefined;
}

/**
 * The live SSE response every ledger reader uses (the ledger itself, AG-UI, the
 * UI message stream): it drains `next` when the reader is ready and on every
 * append (`ledger.onAppend`, in the append's tick, so nothing is skipped or sent
 * twice), sends keep-alive comments, and ends after `maxMs`, on `end`, or when
 * the client goes away. While the reader is still taking earlier writes, new
 * text waits and leaves together: one write per append capped a reader at one
 * event per round trip under fan-out (bench/fanout.ts).
 */
export function liveSse(options: LiveSseOptions): Response {
  const { ledger, clock } = options;
  const encoder = new TextEncoder();
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const stop = new AbortController();
  let chain = Promise.resolve();
  let closed = false;
  let pending = 0;
  const write = (text: string) => {
    if (closed) return;
    pending++;
    chain = chain
      .then(() => writer.write(encoder.encode(text)))
      .then(() => {
        if (--pending === 0) flush();
      })
      .catch(() => close());
  };
  const close = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    stop.abort();
    chain = chain.then(() => writer.close()).catch(() => undefined);
  };
  const flush = () => {
    if (pending > 0 || closed) return;
    const out = options.next();
    if (out && out.text !== "") write(out.text);
    if (out?.end) close();
  };
  const unsubscribe = ledger.onAppend(() => flush());
  options.request.signal.addEventListener("abort", close, { once: true });
  if (options.first) write(options.first);
  flush();
  void (async () => {
    const started = clock.now();
    const left = () => options.maxMs - (clock.now() - started);
    while (!closed && left() > 0) {
      await clock.sleep(Math.min(options.keepAliveMs, left()), stop.signal).catch(() => undefined);
      if (!closed && left() > 0) write(sseComment());
    }
    close();
  })();
  return new Response(readable, { headers: { ...options.headers } });
}
