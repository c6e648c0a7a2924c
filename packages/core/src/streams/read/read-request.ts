/** Parse the query of a read: `offset` (once, non-empty), `live`, `cursor`; and `Last-Event-ID`. */
import { BadRequestError } from "../../errors/http-errors.ts";
import type { PositionSource } from "../../ledger/offset.ts";
import { InvalidOffsetError } from "../stream-errors.ts";

export type LiveMode = "none" | "long-poll" | "sse";

export interface ReadQuery {
  /** `-1` (start), `now` (tail) or an opaque token. */
  readonly offset: string;
  /** Where `offset` came from: `Last-Event-ID` (an SSE reconnect) or the query. */
  readonly offsetFrom: PositionSource;
  readonly live: LiveMode;
  readonly cursor: string | null;
}

export function parseReadQuery(request: Request): ReadQuery {
  const url = new URL(request.url);
  const offsets = url.searchParams.getAll("offset");
  const liveParam = url.searchParams.get("live");
  const live: LiveMode =
    liveParam === null
      ? "none"
      : liveParam === "long-poll" || liveParam === "sse"
        ? liveParam
        : invalidLive(liveParam);
  if (offsets.length > 1) throw new InvalidOffsetError("send the offset query parameter once");
  const resumed = live === "sse" ? lastEventId(request) : null;
  const offset = resumed ?? offsets[0];
  if (offset === undefined && live !== "none") {
    throw new InvalidOffsetError(
      `live=${live} needs an offset; use offset=-1 to start from the beginning or offset=now for new data only`,
    );
  }
  if (offset === "")
    throw new InvalidOffsetError("offset is empty; use -1, now, or a Stream-Next-Offset value");
  return {
    offset: offset ?? "-1",
    offsetFrom: resumed === null ? "offset" : "last-event-id",
    live,
    cursor: url.searchParams.get("cursor"),
  };
}

/**
 * Where an SSE read starts: `Last-Event-ID` when present, else `?offset=`. A browser
 * `EventSource` reconnects with its original URL plus this header, so the header is the newer
 * position; the URL's offset would replay everything since the first connect. Every SSE read
 * (`live=sse`, AG-UI, the UI message stream) takes its position from here.
 */
export function sseStartOffset(
  request: Request,
): { readonly value: string; readonly from: PositionSource } | null {
  const resumed = lastEventId(request);
  if (resumed !== null) return { value: resumed, from: "last-event-id" };
  const offset = new URL(request.url).searchParams.get("offset");
  return offset === null ? null : { value: offset, from: "offset" };
}

function lastEventId(request: Request): string | null {
  const value = request.headers.get("last-event-id");
  return value === null || value === "" ? null : value;
}

function invalidLive(value: string): never {
  throw new BadRequestError(
    "invalid_live_mode",
    `live=${value} is not a read mode; use live=long-poll or live=sse, or omit it`,
  );
}
