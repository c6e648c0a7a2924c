/**
 * Expiry, delete and fork references. A stream with live forks is soft-deleted (410) and
 * keeps its data for fork reads; when its last fork goes, it is wiped, and that cascades up.
 */
import { expiresAtMs, isExpired } from "./expiry.ts";
import type { StreamMeta } from "./store.ts";
import type { StreamContext } from "./stream-context.ts";
import { StreamGoneError, StreamNotFoundError } from "./stream-errors.ts";
import { commitMeta, commitWipe } from "./write/commit.ts";

/** Expire the stream if its time has come. Returns the metadata that is still live, or null. */
export async function expireIfDue(ctx: StreamContext): Promise<StreamMeta | null> {
  const meta = ctx.store.getMeta();
  if (meta === null || meta.softDeleted || !isExpired(meta, ctx.now())) return meta;
  await removeStream(ctx, meta);
  return ctx.store.getMeta();
}

/** The live stream or a typed 404/410. */
export function requireLive(ctx: StreamContext, meta: StreamMeta | null): StreamMeta {
  if (meta === null) throw new StreamNotFoundError(ctx.path);
  if (meta.softDeleted) throw new StreamGoneError(ctx.path);
  return meta;
}

/** Delete, or soft-delete while forks still read this stream. */
export async function removeStream(ctx: StreamContext, meta: StreamMeta): Promise<void> {
  if (meta.refCount > 0) {
    commitMeta(ctx.store, { ...meta, softDeleted: true });
    ctx.waiters.notify();
    return;
  }
  commitWipe(ctx.store);
  ctx.waiters.notify();
  if (meta.fork !== null) await ctx.peers.releaseFork(meta.fork.sourcePath);
  await ctx.hooks?.deleted?.();
}

/** A fork of this stream was deleted: drop the reference, and finish a pending delete. */
export async function releaseForkReference(ctx: StreamContext): Promise<void> {
  const meta = ctx.store.getMeta();
  if (meta === null) return;
  const next = { ...meta, refCount: Math.max(0, meta.refCount - 1) };
  if (next.softDeleted && next.refCount === 0) {
    await removeStream(ctx, next);
    return;
  }
  commitMeta(ctx.store, next);
}

/** Sliding TTL: reads and writes push expiry out; HEAD does not. */
export function touch(ctx: StreamContext, meta: StreamMeta): StreamMeta {
  if (meta.ttlSeconds === null) return meta;
  const next = { ...meta, lastAccessAt: ctx.now() };
  commitMeta(ctx.store, next);
  scheduleExpiry(ctx, next);
  return next;
}

export function scheduleExpiry(ctx: StreamContext, meta: StreamMeta): void {
  const at = expiresAtMs(meta);
  if (at !== null) ctx.hooks?.expiryDue?.(at);
}
