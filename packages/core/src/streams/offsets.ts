/**
 * Offsets: `TTTTTTTTTTTTTTTT_PPPPPPPPPPPPPPPP`, a 16-digit tag of the stream that minted the
 * position, then the 16-digit position (bytes for byte streams, messages for JSON streams).
 *
 * Invariants:
 * 1. Position 0 is always `0000000000000000_0000000000000000`, valid on every stream.
 * 2. A tag starts with its fork depth (2 digits), so a fork's offsets sort after every
 *    offset it inherits: text order equals position order within one stream.
 * 3. A stream re-created after delete gets a fresh random tag, so offsets from the old
 *    stream, or from any other stream, are rejected instead of silently misread.
 */
import { quoteInput } from "../errors/quote-input.ts";
import { type PositionSource, positionTerms } from "../ledger/offset.ts";
import { InvalidOffsetError } from "./stream-errors.ts";

export const ZERO_OFFSET = "0000000000000000_0000000000000000";
const OFFSET_PATTERN = /^(\d{16})_(\d{16})$/;
const MAX_DEPTH = 99;

/** One run of positions minted by one stream incarnation: positions in (previous upTo, upTo]. */
export interface LineageSegment {
  readonly tag: string;
  /** Last position of the segment; `null` means open-ended (the stream's own appends). */
  readonly upTo: number | null;
}

export function newTag(depth: number, random: () => number = Math.random): string {
  if (depth < 1 || depth > MAX_DEPTH) throw new RangeError(`fork depth ${depth} is out of range`);
  let digits = "";
  while (digits.length < 14) digits += Math.floor(random() * 10).toString();
  return depth.toString().padStart(2, "0") + digits;
}

export function tagDepth(tag: string): number {
  return Number(tag.slice(0, 2));
}

export const MAX_FORK_DEPTH = MAX_DEPTH - 1;

export function formatOffset(lineage: readonly LineageSegment[], position: number): string {
  if (position === 0) return ZERO_OFFSET;
  const tag = tagAt(lineage, position);
  return `${tag}_${position.toString().padStart(16, "0")}`;
}

function tagAt(lineage: readonly LineageSegment[], position: number): string {
  for (const segment of lineage) {
    if (segment.upTo === null || position <= segment.upTo) return segment.tag;
  }
  throw new RangeError(`position ${position} is past the lineage`);
}

/** Parse a client offset token into a position of this stream; `tail` bounds it. */
export function parseOffset(
  token: string,
  lineage: readonly LineageSegment[],
  tail: number,
  from: PositionSource = "offset",
): number {
  const match = OFFSET_PATTERN.exec(token);
  const { name, fix } = positionTerms(from);
  if (match === null) {
    throw new InvalidOffsetError(
      from === "offset"
        ? `offset ${quoteInput(token)} is malformed; use -1, now, or a Stream-Next-Offset value returned by this stream`
        : `${name} ${quoteInput(token)} is malformed; ${fix}`,
    );
  }
  const position = Number(match[2]);
  if (token === ZERO_OFFSET) return 0;
  if (position === 0 || position > tail || tagAt(lineage, position) !== match[1]) {
    throw new InvalidOffsetError(
      `${name} "${token}" was not issued by this stream (another stream, or an earlier stream at this URL); ${from === "offset" ? "restart from -1 or use a Stream-Next-Offset from this stream" : fix}`,
    );
  }
  return position;
}

/** The lineage of a fork: the source's segments up to the fork point, then its own tag. */
export function forkLineage(
  source: readonly LineageSegment[],
  forkPosition: number,
  ownTag: string,
): LineageSegment[] {
  const inherited: LineageSegment[] = [];
  for (const segment of source) {
    if (segment.upTo !== null && segment.upTo < forkPosition) {
      inherited.push(segment);
      continue;
    }
    inherited.push({ tag: segment.tag, upTo: forkPosition });
    break;
  }
  if (forkPosition === 0) return [{ tag: ownTag, upTo: null }];
  return [...inherited, { tag: ownTag, upTo: null }];
}
