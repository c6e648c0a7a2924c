/**
 * Route `/v1/stream/*` to the stream's object (one object per stream path), after the same
 * auth as the session routes (stream-access.ts). Preflights, refused requests and bodies
 * that declare more than the append limit are answered here, without waking an object: a
 * body the object refuses unread would still be piping through this Worker. A refused
 * body is read and dropped (up to the limit again) before the 413, since some proxies
 * (wrangler dev's) turn an answer sent while the client is still uploading into a 500.
 *
 * Appends (POST to a stream) are read here and sent to the object by RPC (`append`): no
 * Request, piped body or Response crosses the hop, and the object group-commits them.
 * Everything else is forwarded with `fetch` (reads stream their responses).
 * @example
 * if (url.pathname.startsWith("/v1/stream/"))
 *   return routeStreamRequest(request, env.STREAMS, env, { authorize: allowLocalDev() });
 */
import {
  consoleLogger,
  errorResponse,
  type Logger,
  NotFoundError,
  PayloadTooLargeError,
} from "@durable-agents/core";
import {
  appendResponse,
  assertStreamPath,
  badPathSegment,
  preflightResponse,
  readAppendRequest,
  withStreamHeaders,
} from "@durable-agents/core/streams";
import type { Authorize } from "../auth/authorize.ts";
import { drainBody } from "../http/drain-body.ts";
import type { StreamObjectRpc } from "./do-peers.ts";
import { REGISTRY_NAME } from "./registry-object.ts";
import { unwrapRpcResult } from "./rpc-result.ts";
import { authorizeStreamRequest } from "./stream-access.ts";
import { type StreamVars, streamConfigFromVars } from "./stream-config.ts";

export const STREAM_ROOT = "/v1/stream/";

export interface StreamRouteOptions {
  /**
   * Replaces the default check (a token from mintStreamToken signed with AUTH_SECRET);
   * `allowLocalDev()` opens loopback requests while AUTH_SECRET is unset. See docs/streams.md.
   */
  readonly authorize?: Authorize;
  readonly logger?: Logger;
}

export async function routeStreamRequest(
  request: Request,
  namespace: DurableObjectNamespace,
  env: StreamVars & { readonly AUTH_SECRET?: string } = {},
  options: StreamRouteOptions = {},
): Promise<Response> {
  if (request.method === "OPTIONS") return preflightResponse(request);
  const logger = options.logger ?? consoleLogger;
  try {
    const url = new URL(request.url);
    const path = url.pathname.startsWith(STREAM_ROOT) ? url.pathname.slice(STREAM_ROOT.length) : "";
    const refused = await authorizeStreamRequest(
      request,
      env as unknown as Record<string, unknown>,
      path,
      STREAM_ROOT,
      { authorize: options.authorize, logger },
    );
    if (refused) return refused;
    // After the door: an unauthenticated request hears nothing of its path, and never makes
    // the Worker read its body.
    if (path === "")
      throw new NotFoundError(
        "invalid_stream_path",
        `"${url.pathname.slice(0, 100)}" is not a stream URL; use ${STREAM_ROOT}<name>[/<name>...]`,
      );
    const registry = path === REGISTRY_NAME || path.startsWith(`${REGISTRY_NAME}/`);
    // A stream's path, decoded (p%2F..%2Fq is p/../q); the registry parses its own (ids, and
    // stream paths encoded whole in one segment).
    if (!registry) assertStreamPath(path);
    else if (badPathSegment(path) !== undefined)
      throw new NotFoundError(
        "invalid_stream_path",
        `"${url.pathname.slice(0, 100)}" is not a subscription URL; see docs/streams.md`,
      );
    const limit = streamConfigFromVars(env).maxAppendBytes;
    if (Number(request.headers.get("content-length") ?? "0") > limit) {
      // Taken before the 413 (bounded): wrangler dev's proxy turns an answer sent mid-upload into a 500.
      await drainBody(request, 2 * limit);
      throw new PayloadTooLargeError("the request body", limit);
    }
    // Reserved control paths (PROTOCOL.md 6) all go to the one registry object.
    const objectName = registry ? REGISTRY_NAME : path;
    const stub = namespace.get(namespace.idFromName(objectName));
    if (request.method === "POST" && objectName !== REGISTRY_NAME) {
      const input = await readAppendRequest(request, limit);
      const reply = await (stub as unknown as StreamObjectRpc).append(path, input);
      return withStreamHeaders(appendResponse(unwrapRpcResult(reply)), request);
    }
    return await stub.fetch(request);
  } catch (error) {
    const response = errorResponse(error, (cause) =>
      logger.error("stream request failed", { error: String(cause) }),
    );
    return withStreamHeaders(response, request);
  }
}
