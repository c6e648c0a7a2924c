/**
 * Route `/v1/stream/*` to the stream's object (one object per stream path). Preflights, and
 * bodies that declare more than the append limit, are answered here, without waking an
 * object: a body the object refuses unread would still be piping through this Worker.
 * @example
 * if (url.pathname.startsWith("/v1/stream/")) return routeStreamRequest(request, env.STREAMS, env);
 */
import { errorResponse, NotFoundError, PayloadTooLargeError } from "@durable-agents/core";
import { preflightResponse, withStreamHeaders } from "@durable-agents/core/streams";
import { REGISTRY_NAME } from "./registry-object.ts";
import { type StreamVars, streamConfigFromVars } from "./stream-config.ts";

export const STREAM_ROOT = "/v1/stream/";

export async function routeStreamRequest(
  request: Request,
  namespace: DurableObjectNamespace,
  vars: StreamVars = {},
): Promise<Response> {
  if (request.method === "OPTIONS") return preflightResponse(request);
  const limit = streamConfigFromVars(vars).maxAppendBytes;
  if (Number(request.headers.get("content-length") ?? "0") > limit)
    return withStreamHeaders(
      errorResponse(new PayloadTooLargeError("the request body", limit)),
      request,
    );
  const url = new URL(request.url);
  const path = url.pathname.startsWith(STREAM_ROOT) ? url.pathname.slice(STREAM_ROOT.length) : "";
  if (
    path === "" ||
    path.split("/").some((segment) => segment === "" || segment === "." || segment === "..")
  ) {
    const error = new NotFoundError(
      "invalid_stream_path",
      `"${url.pathname.slice(0, 100)}" is not a stream URL; use ${STREAM_ROOT}<name>[/<name>...]`,
    );
    return withStreamHeaders(errorResponse(error), request);
  }
  // Reserved control paths (PROTOCOL.md 6) all go to the one registry object.
  const objectName =
    path === REGISTRY_NAME || path.startsWith(`${REGISTRY_NAME}/`) ? REGISTRY_NAME : path;
  return namespace.get(namespace.idFromName(objectName)).fetch(request);
}
