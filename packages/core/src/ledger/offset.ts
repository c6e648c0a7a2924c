import { BadRequestError, quoteInput } from "../errors/index.ts";

/**
 * Ledger offsets. The offset after event `seq` is `seq`, zero-padded to 16
 * digits so offsets sort as text. "-1" is the start; "now" is the tail.
 */
const WIDTH = 16;

export const START_OFFSET = "-1";

export function encodeOffset(seq: number): string {
  return String(seq).padStart(WIDTH, "0");
}

/**
 * Where a read's position came from: the `offset` query parameter (or a body's offset), or the
 * `Last-Event-ID` header an SSE reader sends back on reconnecting (the `id:` of the last event
 * it got; EventSource does, HTML "Server-sent events"). A refusal names the one the client sent.
 */
export type PositionSource = "offset" | "last-event-id";

/** How a refusal names a position from `from` (`name`), and where a good one comes from (`fix`). */
export function positionTerms(from: PositionSource): { name: string; fix: string } {
  return from === "last-event-id"
    ? {
        name: "Last-Event-ID",
        fix: "send back the id: of an SSE event this stream sent (EventSource does), or reconnect without it to read from ?offset=",
      }
    : {
        name: "offset",
        fix: "use -1 (start), now (tail), or a Stream-Next-Offset value from an earlier read",
      };
}

/** Parses a client offset into the seq it follows; `tail` resolves "now"; `from` names it in errors. */
export function decodeOffset(
  offset: string | null | undefined,
  tail: number,
  from: PositionSource = "offset",
): number {
  if (offset === null || offset === undefined || offset === START_OFFSET) return 0;
  if (offset === "now") return tail;
  const { name, fix } = positionTerms(from);
  if (!/^\d{16}$/.test(offset)) {
    throw new BadRequestError(
      "invalid_offset",
      `${name} ${quoteInput(offset)} is not a ledger offset; ${fix}`,
    );
  }
  const seq = Number(offset);
  if (seq > tail) {
    throw new BadRequestError(
      "offset_out_of_range",
      `${name} "${offset}" is past the tail of this ledger (${encodeOffset(tail)}); ${from === "offset" ? "read from an offset this session returned" : fix}`,
      { details: { tail: encodeOffset(tail) } },
    );
  }
  return seq;
}
