/**
 * `handleStreamRequest`: one stream's protocol as `Request → Response`. Errors become
 * responses in exactly one place (`errorResponse`); HEAD never carries a body.
 */
import { MethodNotAllowedError } from "../errors/http-errors.ts";
import { errorResponse } from "../http/error-response.ts";
import { preflightResponse, withStreamHeaders } from "./http-headers.ts";
import { expireIfDue, removeStream, requireLive, touch } from "./lifecycle.ts";
import { H } from "./protocol-headers.ts";
import { serveStreamHead, serveStreamRead } from "./read/serve-stream-read.ts";
import type { StreamMeta } from "./store.ts";
import type { StreamContext } from "./stream-context.ts";
import { streamReadSource } from "./stream-read-source.ts";
import { handleAppend } from "./write/append.ts";
import { handleCreate } from "./write/create.ts";

const ALLOWED = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"] as const;

export async function handleStreamRequest(
  request: Request,
  ctx: StreamContext,
  /** Gets every 5xx cause (see errorResponse). */
  onInternal: (error: unknown) => void,
): Promise<Response> {
  if (request.method === "OPTIONS") return preflightResponse(request);
  let response: Response;
  try {
    response = await route(request, ctx);
  } catch (error) {
    response = errorResponse(error, onInternal);
  }
  if (request.method === "HEAD" && response.body !== null) {
    response = new Response(null, { status: response.status, headers: response.headers });
  }
  return withStreamHeaders(response, request);
}

async function route(request: Request, ctx: StreamContext): Promise<Response> {
  // PUT and POST read their body first, then look at the stream: no await between that look and the commit.
  if (request.method === "PUT") return handleCreate(request, ctx);
  if (request.method === "POST") return handleAppend(request, ctx);
  const meta = await expireIfDue(ctx);
  switch (request.method) {
    case "GET":
      return handleRead(request, ctx, requireLive(ctx, meta));
    case "HEAD":
      return headResponse(ctx, requireLive(ctx, meta));
    case "DELETE":
      await removeStream(ctx, requireLive(ctx, meta));
      return new Response(null, { status: 204 });
    default:
      throw new MethodNotAllowedError(request.method, `/${ctx.path}`, ALLOWED);
  }
}

function handleRead(request: Request, ctx: StreamContext, meta: StreamMeta): Promise<Response> {
  const current = touch(ctx, meta);
  return serveStreamRead(request, streamReadSource(ctx, current), {
    ...ctx.config.read,
    now: ctx.now,
    ...(ctx.random === undefined ? {} : { random: ctx.random }),
  });
}

/**
 * The reader's HEAD (the one a session ledger answers too), plus this stream's expiry. No
 * `touch`: a HEAD does not extend a TTL.
 */
async function headResponse(ctx: StreamContext, meta: StreamMeta): Promise<Response> {
  const response = await serveStreamHead(streamReadSource(ctx, meta));
  if (meta.ttlSeconds !== null) response.headers.set(H.ttl, String(meta.ttlSeconds));
  if (meta.expiresAt !== null) response.headers.set(H.expiresAt, meta.expiresAt);
  return response;
}
