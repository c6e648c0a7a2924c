/** A general stream as a `StreamReadSource`: its store, its fork source, its waiters. */
import { isJsonContentType } from "./content-type.ts";
import { readInherited } from "./fork-source.ts";
import { formatOffset, parseOffset } from "./offsets.ts";
import type { ReadState, StreamReadSource } from "./read/read-source.ts";
import type { StreamMeta } from "./store.ts";
import type { StreamContext } from "./stream-context.ts";

export function streamReadSource(ctx: StreamContext, meta: StreamMeta): StreamReadSource {
  const lineage = meta.lineage;
  const etagId = lineage[lineage.length - 1]?.tag ?? "0";
  const now = (): ReadState => {
    const current = ctx.store.getMeta();
    const tag = current?.lineage[current.lineage.length - 1]?.tag;
    // Deleted or re-created under us: report closed so live readers end.
    if (current === null || current.softDeleted || tag !== etagId)
      return { tail: meta.tail, closed: true };
    return { tail: current.tail, closed: current.closed };
  };
  let reported: ReadState | null = null;
  return {
    contentType: meta.contentType,
    bytePositions: !isJsonContentType(meta.contentType),
    etagId,
    state(): ReadState {
      reported = now();
      return reported;
    },
    parseOffset: (token, state, from) => parseOffset(token, lineage, state.tail, from),
    formatOffset: (position) => formatOffset(lineage, position),
    read: (from, maxBytes) => readInherited(ctx, from, Number.MAX_SAFE_INTEGER, maxBytes),
    // A commit can land between the caller's `await state()` and this call (a microtask
    // apart); its notify found no waiter, so compare with what state() last reported.
    waitForChange: (timeoutMs, signal) => {
      const current = now();
      if (
        reported !== null &&
        (current.tail !== reported.tail || current.closed !== reported.closed)
      )
        return Promise.resolve();
      return ctx.waiters.wait(timeoutMs, signal);
    },
  };
}
