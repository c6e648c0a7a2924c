/**
 * The source side of forks: grant a fork (validate, take a reference), and serve inherited
 * reads. Inherited reads do not touch the source's TTL and work on soft-deleted sources.
 */
import { chunkPrefix, sliceChunk } from "./chunks.ts";
import { isJsonContentType, normalizeContentType } from "./content-type.ts";
import { expireIfDue } from "./lifecycle.ts";
import { MAX_FORK_DEPTH, parseOffset, tagDepth } from "./offsets.ts";
import type { StoredChunk, StreamMeta } from "./store.ts";
import type { ForkGrant, ForkGrantRequest, StreamContext } from "./stream-context.ts";
import {
  ContentTypeMismatchError,
  ForkSourceDeletedError,
  ForkSourceNotFoundError,
  InvalidHeaderError,
} from "./stream-errors.ts";
import { commitMeta } from "./write/commit.ts";

export async function grantFork(ctx: StreamContext, request: ForkGrantRequest): Promise<ForkGrant> {
  const meta = await expireIfDue(ctx);
  if (meta === null) throw new ForkSourceNotFoundError(ctx.path);
  if (meta.softDeleted) throw new ForkSourceDeletedError(ctx.path);
  if (
    request.contentType !== null &&
    normalizeContentType(request.contentType) !== normalizeContentType(meta.contentType)
  ) {
    throw new ContentTypeMismatchError(meta.contentType, request.contentType);
  }
  const ownTag = meta.lineage[meta.lineage.length - 1]?.tag ?? "";
  if (tagDepth(ownTag) >= MAX_FORK_DEPTH) {
    throw new InvalidHeaderError(
      "Stream-Forked-From",
      `fork chains are limited to ${MAX_FORK_DEPTH} levels; fork a shallower stream`,
    );
  }
  const base = request.offset === null ? meta.tail : parseForkOffset(request.offset, meta);
  const prefix =
    request.subOffset > 0 ? await subOffsetPrefix(ctx, meta, base, request.subOffset) : null;
  commitMeta(ctx.store, { ...meta, refCount: meta.refCount + 1 });
  return {
    contentType: meta.contentType,
    ttlSeconds: meta.ttlSeconds,
    expiresAt: meta.expiresAt,
    lineage: meta.lineage,
    base,
    prefix,
  };
}

function parseForkOffset(offset: string, meta: StreamMeta): number {
  try {
    return parseOffset(offset, meta.lineage, meta.tail);
  } catch {
    throw new InvalidHeaderError(
      "Stream-Fork-Offset",
      `"${offset}" is not an offset of the source at or before its tail; use a Stream-Next-Offset the source returned`,
    );
  }
}

async function subOffsetPrefix(
  ctx: StreamContext,
  meta: StreamMeta,
  base: number,
  sub: number,
): Promise<StoredChunk> {
  const [first] = await readInherited(ctx, base, meta.tail, 1);
  const json = isJsonContentType(meta.contentType);
  if (first === undefined || first.start !== base || sub > first.end - first.start) {
    const unit = json ? "messages" : "bytes";
    const room = first === undefined || first.start !== base ? 0 : first.end - first.start;
    throw new InvalidHeaderError(
      "Stream-Fork-Sub-Offset",
      `${sub} ${unit} overshoots the append at the fork offset, which holds ${room}; use at most ${room}`,
    );
  }
  return chunkPrefix(first, sub, json);
}

/** Chunks covering (from, until] of this stream, stitched across its own fork chain. */
export async function readInherited(
  ctx: StreamContext,
  from: number,
  until: number,
  maxBytes: number,
): Promise<StoredChunk[]> {
  const meta = ctx.store.getMeta();
  if (meta === null) return [];
  const json = isJsonContentType(meta.contentType);
  const out: StoredChunk[] = [];
  let position = from;
  let budget = maxBytes;
  const fork = meta.fork;
  if (fork !== null && position < fork.base) {
    const inherited = await ctx.peers.readInherited(
      fork.sourcePath,
      position,
      Math.min(until, fork.base),
      budget,
    );
    for (const chunk of inherited) {
      out.push(chunk);
      budget -= chunk.data.byteLength;
      position = chunk.end;
    }
    if (position < Math.min(until, fork.base) || budget <= 0) return out;
  }
  for (const chunk of ctx.store.readChunks(position, until, Math.max(1, budget))) {
    if (out.length > 0 && budget - chunk.data.byteLength < 0) break;
    out.push(sliceChunk(chunk, position, json));
    budget -= chunk.data.byteLength;
  }
  return out;
}
