/** PUT: create a stream or a fork, idempotently (PROTOCOL.md 4.2, 5.1). */
import { readBytes } from "../../http/read-json.ts";
import { type AppendContent, buildChunks } from "../chunks.ts";
import { DEFAULT_CONTENT_TYPE, isJsonContentType, normalizeContentType } from "../content-type.ts";
import { forkExpiry, sameExpiry } from "../expiry.ts";
import { parseJsonMessages } from "../json-mode.ts";
import { expireIfDue, scheduleExpiry } from "../lifecycle.ts";
import { forkLineage, formatOffset, newTag, tagDepth, ZERO_OFFSET } from "../offsets.ts";
import { H } from "../protocol-headers.ts";
import {
  type ExpiryRequest,
  type ForkRequest,
  parseClosed,
  parseExpiry,
  parseFork,
} from "../request-headers.ts";
import type { StoredChunk, StreamMeta } from "../store.ts";
import type { ForkGrant, StreamContext } from "../stream-context.ts";
import { StreamConfigConflictError } from "../stream-errors.ts";
import { commitCreate } from "./commit.ts";

interface CreateRequest {
  readonly contentType: string | null;
  readonly expiry: ExpiryRequest;
  readonly closed: boolean;
  readonly fork: ForkRequest | null;
  readonly body: Uint8Array;
}

export async function handleCreate(request: Request, ctx: StreamContext): Promise<Response> {
  const rawType = request.headers.get("content-type");
  const create: CreateRequest = {
    contentType: rawType === null || rawType.trim() === "" ? null : rawType,
    expiry: parseExpiry(request.headers),
    closed: parseClosed(request.headers),
    fork: parseFork(request.headers, ctx.config.streamRoot),
    body: await readBytes(request, ctx.config.maxAppendBytes),
  };
  await expireIfDue(ctx);
  const existing = ctx.store.getMeta();
  if (existing !== null) return confirmExisting(request, ctx, existing, create);

  let grant: ForkGrant | null = null;
  if (create.fork !== null) {
    grant = await ctx.peers.grantFork(create.fork.sourcePath, {
      offset: create.fork.offset,
      subOffset: create.fork.subOffset,
      contentType: create.contentType,
    });
    const raced = ctx.store.getMeta();
    if (raced !== null) {
      await ctx.peers.releaseFork(create.fork.sourcePath);
      return confirmExisting(request, ctx, raced, create);
    }
  }
  let meta: StreamMeta;
  let chunks: StoredChunk[];
  try {
    ({ meta, chunks } = buildStream(ctx, create, grant));
  } catch (error) {
    if (create.fork !== null) await ctx.peers.releaseFork(create.fork.sourcePath);
    throw error;
  }
  commitCreate(ctx.store, meta, chunks);
  scheduleExpiry(ctx, meta);
  await ctx.hooks?.created?.(meta);
  const headers = createdHeaders(meta);
  headers.set("location", new URL(request.url).href.split("?")[0] as string);
  return new Response(null, { status: 201, headers });
}

function buildStream(
  ctx: StreamContext,
  create: CreateRequest,
  grant: ForkGrant | null,
): { meta: StreamMeta; chunks: StoredChunk[] } {
  const contentType = create.contentType ?? grant?.contentType ?? DEFAULT_CONTENT_TYPE;
  const parentTag = grant?.lineage[grant.lineage.length - 1]?.tag;
  const tag = newTag(parentTag === undefined ? 1 : tagDepth(parentTag) + 1, ctx.random);
  const base = grant?.base ?? 0;
  const lineage = grant === null ? [{ tag, upTo: null }] : forkLineage(grant.lineage, base, tag);
  const chunks: StoredChunk[] = [];
  let tail = base;
  if (grant?.prefix) {
    chunks.push({
      ...grant.prefix,
      start: base,
      end: base + (grant.prefix.end - grant.prefix.start),
    });
    tail = base + (grant.prefix.end - grant.prefix.start);
  }
  if (create.body.byteLength > 0) {
    const content: AppendContent = isJsonContentType(contentType)
      ? { kind: "json", messages: parseJsonMessages(create.body, true) }
      : { kind: "bytes", bytes: create.body };
    const built = buildChunks(tail, content);
    chunks.push(...built);
    tail = built[built.length - 1]?.end ?? tail;
  }
  const expiry = grant === null ? create.expiry : forkExpiry(create.expiry, grant);
  const now = ctx.now();
  const fork = create.fork;
  return {
    chunks,
    meta: {
      contentType,
      ttlSeconds: expiry.ttlSeconds,
      expiresAt: expiry.expiresAt,
      closed: create.closed,
      closedBy: null,
      lineage,
      tail,
      lastStreamSeq: null,
      createdAt: now,
      lastAccessAt: now,
      softDeleted: false,
      refCount: 0,
      fork:
        fork === null
          ? null
          : {
              sourcePath: fork.sourcePath,
              requestedOffset: fork.offset,
              base,
              subOffset: fork.subOffset,
            },
    },
  };
}

function confirmExisting(
  request: Request,
  ctx: StreamContext,
  meta: StreamMeta,
  create: CreateRequest,
): Response {
  if (meta.softDeleted)
    throw new StreamConfigConflictError(
      ctx.path,
      "lifecycle: it was deleted and forks still use it",
    );
  const mismatch = configMismatch(meta, create);
  if (mismatch !== null) throw new StreamConfigConflictError(ctx.path, mismatch);
  void request;
  return new Response(null, { status: 200, headers: createdHeaders(meta) });
}

function configMismatch(meta: StreamMeta, create: CreateRequest): string | null {
  const wantType =
    create.contentType ?? (create.fork !== null ? meta.contentType : DEFAULT_CONTENT_TYPE);
  if (normalizeContentType(wantType) !== normalizeContentType(meta.contentType))
    return "content type";
  if (meta.closed !== create.closed) return "closed state";
  const fork = create.fork;
  if ((fork === null) !== (meta.fork === null)) return "fork source";
  if (fork !== null && meta.fork !== null) {
    if (fork.sourcePath !== meta.fork.sourcePath) return "fork source";
    if (
      fork.offset !== null &&
      fork.offset !== meta.fork.requestedOffset &&
      fork.offset !== formatOffset(meta.lineage, meta.fork.base)
    ) {
      return "fork offset";
    }
    if (fork.subOffset !== meta.fork.subOffset) return "fork sub-offset";
    const requested = create.expiry;
    if (requested.ttlSeconds === null && requested.expiresAt === null) return null;
  }
  if (!sameExpiry(meta, create.expiry)) return "TTL or expiry";
  return null;
}

function createdHeaders(meta: StreamMeta): Headers {
  const headers = new Headers({ "content-type": meta.contentType });
  headers.set(H.nextOffset, meta.tail === 0 ? ZERO_OFFSET : formatOffset(meta.lineage, meta.tail));
  if (meta.closed) headers.set(H.closed, "true");
  return headers;
}
