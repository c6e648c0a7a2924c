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
  return {
    contentType: meta.contentType,
    bytePositions: !isJsonContentType(meta.contentType),
    etagId,
    state(): ReadState {
      const current = ctx.store.getMeta();
      const tag = current?.lineage[current.lineage.length - 1]?.tag;
      // Deleted or re-created under us: report closed so live readers end.
      if (current === null || current.softDeleted || tag !== etagId)
        return { tail: meta.tail, closed: true };
      return { tail: current.tail, closed: current.closed };
    },
    parseOffset: (token, state) => parseOffset(token, lineage, state.tail),
    formatOffset: (position) => formatOffset(lineage, position),
    read: (from, maxBytes) => readInherited(ctx, from, Number.MAX_SAFE_INTEGER, maxBytes),
    waitForChange: (timeoutMs, signal) => ctx.waiters.wait(timeoutMs, signal),
  };
}
