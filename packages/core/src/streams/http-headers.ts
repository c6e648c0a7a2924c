/** Browser security headers (PROTOCOL.md 12.7) and CORS, applied to every stream response. */
const EXPOSED = [
  "stream-next-offset",
  "stream-up-to-date",
  "stream-closed",
  "stream-cursor",
  "stream-ttl",
  "stream-expires-at",
  "stream-sse-data-encoding",
  "producer-epoch",
  "producer-seq",
  "producer-expected-seq",
  "producer-received-seq",
  "etag",
  "location",
].join(", ");

const ALLOWED_HEADERS = [
  "content-type",
  "authorization",
  "if-none-match",
  "stream-seq",
  "stream-ttl",
  "stream-expires-at",
  "stream-closed",
  "stream-forked-from",
  "stream-fork-offset",
  "stream-fork-sub-offset",
  "producer-id",
  "producer-epoch",
  "producer-seq",
].join(", ");

export function withStreamHeaders(response: Response, request: Request): Response {
  const headers = response.headers;
  headers.set("x-content-type-options", "nosniff");
  headers.set("cross-origin-resource-policy", "cross-origin");
  headers.set("access-control-allow-origin", request.headers.get("origin") ?? "*");
  headers.set("access-control-expose-headers", EXPOSED);
  if (request.headers.has("origin")) headers.append("vary", "origin");
  return response;
}

/** CORS preflight: allow the protocol's methods and headers, including If-None-Match. */
export function preflightResponse(request: Request): Response {
  const requested = request.headers.get("access-control-request-headers");
  const headers = new Headers({
    "access-control-allow-methods": "GET, HEAD, PUT, POST, DELETE, OPTIONS",
    "access-control-allow-headers":
      requested === null ? ALLOWED_HEADERS : `${ALLOWED_HEADERS}, ${requested}`,
    "access-control-max-age": "86400",
  });
  return withStreamHeaders(new Response(null, { status: 204, headers }), request);
}
