import { BadRequestError } from "../errors/index.ts";

/**
 * Ledger offsets. The offset after event `seq` is `seq`, zero-padded to 16
 * digits so offsets sort as text. "-1" is the start; "now" is the tail.
 */
const WIDTH = 16;

export const START_OFFSET = "-1";

export function encodeOffset(seq: number): string {
  return String(seq).padStart(WIDTH, "0");
}

/** Parses a client offset into the seq it follows; `tail` resolves "now". */
export function decodeOffset(offset: string | null | undefined, tail: number): number {
  if (offset === null || offset === undefined || offset === START_OFFSET) return 0;
  if (offset === "now") return tail;
  if (!/^\d{16}$/.test(offset)) {
    throw new BadRequestError(
      "invalid_offset",
      `offset "${offset.slice(0, 40)}" is not a ledger offset; use -1 (start), now (tail), or a Stream-Next-Offset value from an earlier read`,
    );
  }
  const seq = Number(offset);
  if (seq > tail) {
    throw new BadRequestError(
      "offset_out_of_range",
      `offset ${offset} is past the tail of this ledger (${encodeOffset(tail)}); read from an offset this session returned`,
      { details: { tail: encodeOffset(tail) } },
    );
  }
  return seq;
}
