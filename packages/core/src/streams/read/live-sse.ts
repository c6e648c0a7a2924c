/**
 * The live SSE loop of every stream read: Durable Streams `live=sse` (on `/v1/stream/*` and on
 * a session's `GET .../events`) and the AG-UI and UI message projections of a ledger. What a
 * read writes for the chunks it gets is the caller's `LiveFrames`; the loop owns the rest.
 *
 * Invariants:
 * 1. The position only moves past chunks handed to `frames.chunks`, in order, so a reader
 *    never skips a chunk and never gets one twice.
 * 2. Nothing is read while the reader still holds an unread write (the body's queue is full):
 *    what was appended meanwhile leaves in the next write, together. One write per append
 *    capped a reader at one event per round trip under fan-out (bench/fanout.ts).
 * 3. The response ends after `maxDurationMs`, when the client goes away, when `frames` says
 *    so, or at the tail of a closed stream (after `frames.atTail`).
 * 4. A reader holds at most one unread write in the object. One that has not taken it after
 *    `stall.ms` is ended (after that write), and its client resumes from the offset it last
 *    got: a reader that cannot keep up is never buffered for, and never slows the writer.
 */
import { sseComment } from "../../wire/sse.ts";
import type { ReadChunk, ReadState, StreamReadSource } from "./read-source.ts";

/** What to write next, and whether the response ends after it. */
export interface LiveWrite {
  readonly text?: string | Uint8Array;
  readonly end?: boolean;
}

export interface LiveFrames<C extends ReadChunk> {
  /** The write for `chunks`, read when the stream was at `state`. */
  chunks(chunks: readonly C[], state: ReadState): LiveWrite;
  /** The reader is at the tail of `state` (before it waits, and at a closed stream's end). */
  atTail(state: ReadState): LiveWrite | undefined;
}

export interface LiveSseOptions {
  /** The response ends after this long (clients reconnect); `Infinity` for a run-bound stream. */
  readonly maxDurationMs: number;
  /** An idle response gets a comment this often, so proxies keep it open. */
  readonly keepAliveMs: number;
  /** Cap on one read from the source (the source returns at least one chunk). */
  readonly maxReadBytes: number;
  readonly headers: HeadersInit;
  readonly now: () => number;
  /** End a reader that has not taken its last write after `ms` (invariant 4); none: wait. */
  readonly stall?: {
    readonly ms: number;
    readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  };
}

const encoder = new TextEncoder();

export function liveSse<C extends ReadChunk>(
  request: Request,
  source: StreamReadSource<C>,
  start: number,
  frames: LiveFrames<C>,
  options: LiveSseOptions,
): Response {
  const { now } = options;
  const deadline = now() + options.maxDurationMs;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pulled: (() => void) | undefined;
  const wake = (): void => {
    pulled?.();
    pulled = undefined;
  };
  const stop = new AbortController();
  stop.signal.addEventListener("abort", wake, { once: true });
  request.signal.addEventListener("abort", () => stop.abort(), { once: true });

  const write = (text: string | Uint8Array | undefined): void => {
    if (text === undefined || text.length === 0) return;
    controller.enqueue(typeof text === "string" ? encoder.encode(text) : text);
  };
  /**
   * Resolves once the reader took what was written (invariant 2), or on stop: true; false
   * when it did not within `stall.ms` (invariant 4).
   */
  const drained = async (): Promise<boolean> => {
    if ((controller.desiredSize ?? 0) > 0 || stop.signal.aborted) return true;
    const took = new Promise<true>((resolve) => {
      pulled = () => resolve(true);
    });
    const { stall } = options;
    if (stall === undefined) return took;
    const timer = new AbortController();
    const late = stall.sleep(stall.ms, timer.signal).then(
      () => false,
      () => true,
    );
    const result = await Promise.race([took, late]);
    timer.abort();
    return result;
  };

  async function loop(): Promise<void> {
    let position = start;
    while (!stop.signal.aborted) {
      if (!(await drained())) break;
      if (stop.signal.aborted) break;
      const state = await source.state();
      if (state.tail > position) {
        const chunks = await source.read(position, options.maxReadBytes);
        const last = chunks[chunks.length - 1];
        if (last === undefined) break;
        position = last.end;
        const out = frames.chunks(chunks, state);
        write(out.text);
        if (out.end) break;
        continue;
      }
      const out = frames.atTail(state);
      write(out?.text);
      if (out?.end || state.closed) break;
      const remaining = deadline - now();
      if (remaining <= 0) break;
      await source.waitForChange(Math.min(remaining, options.keepAliveMs), stop.signal);
      const after = await source.state();
      if (after.tail === state.tail && !after.closed && !stop.signal.aborted && now() < deadline)
        write(sseComment());
    }
  }

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      loop().then(
        () => closeQuietly(controller),
        (error: unknown) => controller.error(error),
      );
    },
    pull: wake,
    cancel() {
      stop.abort();
    },
  });
  return new Response(body, { status: 200, headers: options.headers });
}

/** Close the body; after the client cancelled it, it is closed already. */
function closeQuietly(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {
    // cancelled by the reader
  }
}
