/**
 * `serveStreamRead`: the read side of the protocol (PROTOCOL.md 5.5-5.8, 8, 10) over any
 * `StreamReadSource`. Catch-up, long-poll and SSE share offset parsing, ETags and cursors;
 * HEAD (`serveStreamHead`) the headers they all start from.
 *
 * Invariants:
 * 1. `Stream-Up-To-Date` is set only when the response reaches the tail seen at read time.
 * 2. `Stream-Closed` is set only when the stream is closed and the response reaches its end.
 * 3. A long-poll at the tail of a closed stream answers at once.
 * 4. A catch-up or long-poll body of a `text/*` stream that stops before the tail ends on a
 *    whole UTF-8 character (clients decode each body on its own); one at the tail carries
 *    every byte, even a character cut by an append, so a read always makes progress.
 */
import { isJsonContentType, isTextContentType } from "../content-type.ts";
import { H, NO_STORE } from "../protocol-headers.ts";
import { nextCursor } from "./cursor.ts";
import { completeUtf8Length, concatBytes, responseBody } from "./framing.ts";
import { parseReadQuery, type ReadQuery } from "./read-request.ts";
import type { ReadChunk, ReadState, StreamReadOptions, StreamReadSource } from "./read-source.ts";
import { serveSse } from "./sse.ts";

export async function serveStreamRead<C extends ReadChunk>(
  request: Request,
  source: StreamReadSource<C>,
  options: StreamReadOptions,
): Promise<Response> {
  if (request.method === "HEAD") return serveStreamHead(source);
  const query = parseReadQuery(request);
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const state = await source.state();
  const start = resolveStart(query, source, state);
  if (query.live === "sse") return serveSse(request, source, options, start, query.cursor);
  const cursor = (): string => nextCursor(query.cursor, now(), random);

  if (query.offset === "now" && query.live === "none") {
    const headers = baseHeaders(source, state, state.tail, true, NO_STORE);
    if (state.closed) headers.set(H.closed, "true");
    return new Response(isJsonContentType(source.contentType) ? "[]" : null, {
      status: 200,
      headers,
    });
  }

  let current = state;
  if (query.live === "long-poll") {
    const deadline = now() + options.longPollTimeoutMs;
    while (current.tail <= start && !current.closed) {
      const remaining = deadline - now();
      if (remaining <= 0) break;
      await source.waitForChange(remaining, request.signal);
      if (request.signal.aborted) break;
      current = await source.state();
    }
    if (current.tail <= start) {
      const headers = baseHeaders(source, current, current.tail, true, NO_STORE);
      if (current.closed) headers.set(H.closed, "true");
      else headers.set(H.cursor, cursor());
      return new Response(null, { status: 204, headers });
    }
  }

  const chunks: C[] =
    current.tail > start ? [...(await source.read(start, options.maxReadBytes))] : [];
  const endOf = (): number => (chunks.length > 0 ? (chunks[chunks.length - 1] as C).end : start);
  const text = source.bytePositions && isTextContentType(source.contentType);
  // Invariant 4: a read that holds only part of a character reads on to its end.
  while (text && endOf() < current.tail && completeUtf8Length(concatBytes(chunks)) === 0) {
    const more = await source.read(endOf(), options.maxReadBytes);
    if (more.length === 0) break;
    chunks.push(...more);
  }
  let body = responseBody(chunks, isJsonContentType(source.contentType)) as Uint8Array<ArrayBuffer>;
  let end = endOf();
  if (text && end < current.tail) {
    const whole = completeUtf8Length(body);
    end -= body.byteLength - whole;
    body = body.subarray(0, whole);
  }
  const atTail = end >= current.tail;
  const closedAtEnd = current.closed && atTail;
  const cache =
    chunks.length > 0 && options.cacheVisibility !== "no-store"
      ? `${options.cacheVisibility}, max-age=60, stale-while-revalidate=300`
      : NO_STORE;
  const headers = baseHeaders(source, current, end, atTail, cache);
  if (closedAtEnd) headers.set(H.closed, "true");
  if (query.live === "long-poll" && !closedAtEnd) headers.set(H.cursor, cursor());
  const etag = `"${source.etagId}:${query.offset}:${source.formatOffset(end)}${closedAtEnd ? ":c" : ""}"`;
  headers.set("etag", etag);
  if (matchesEtag(request.headers.get("if-none-match"), etag))
    return new Response(null, { status: 304, headers });
  return new Response(body, { status: 200, headers });
}

/**
 * HEAD (PROTOCOL.md 5.5): the stream's metadata without a body. The headers of a read at the
 * tail (content type, `Stream-Next-Offset`, `Stream-Closed` when closed), with
 * `Cache-Control: no-store` as 5.5 recommends (a tail offset must not be served stale). The
 * query is not read: HEAD describes the stream, not a read of it.
 */
export async function serveStreamHead<C extends ReadChunk>(
  source: StreamReadSource<C>,
): Promise<Response> {
  const state = await source.state();
  const headers = streamHeaders(source, state.tail, NO_STORE);
  if (state.closed) headers.set(H.closed, "true");
  return new Response(null, { status: 200, headers });
}

function resolveStart<C extends ReadChunk>(
  { offset, offsetFrom }: ReadQuery,
  source: StreamReadSource<C>,
  state: ReadState,
): number {
  if (offset === "-1") return 0;
  if (offset === "now") return state.tail;
  return source.parseOffset(offset, state, offsetFrom);
}

function baseHeaders<C extends ReadChunk>(
  source: StreamReadSource<C>,
  state: ReadState,
  end: number,
  upToDate: boolean,
  cache: string,
): Headers {
  const headers = streamHeaders(source, end, cache);
  if (upToDate || end >= state.tail) headers.set(H.upToDate, "true");
  return headers;
}

/** What every answer about a stream carries: its content type, the offset, the caching. */
function streamHeaders<C extends ReadChunk>(
  source: StreamReadSource<C>,
  end: number,
  cache: string,
): Headers {
  const headers = new Headers({ "content-type": source.contentType, "cache-control": cache });
  headers.set(H.nextOffset, source.formatOffset(end));
  return headers;
}

function matchesEtag(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  return ifNoneMatch
    .split(",")
    .some((candidate) => candidate.trim() === etag || candidate.trim() === "*");
}
