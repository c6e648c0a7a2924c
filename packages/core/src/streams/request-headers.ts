/** Parsing of request headers. Each parser throws a typed 400 that names the header and the fix. */
import { H, isTrueHeader } from "./protocol-headers.ts";
import type { ProducerTuple } from "./store.ts";
import { InvalidHeaderError } from "./stream-errors.ts";
import { assertStreamPath } from "./stream-path.ts";

const STRICT_UINT = /^(0|[1-9]\d*)$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function parseUint(header: string, value: string): number {
  const n = Number(value);
  if (!STRICT_UINT.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidHeaderError(
      header,
      `"${value}" is not a non-negative integer without sign, leading zeros or exponent`,
    );
  }
  return n;
}

export interface ExpiryRequest {
  readonly ttlSeconds: number | null;
  readonly expiresAt: string | null;
}

export function parseExpiry(headers: Headers): ExpiryRequest {
  const ttl = headers.get(H.ttl);
  const expires = headers.get(H.expiresAt);
  if (ttl !== null && expires !== null) {
    throw new InvalidHeaderError(
      "Stream-TTL",
      "send either Stream-TTL or Stream-Expires-At, not both",
    );
  }
  if (expires !== null && (!RFC3339.test(expires) || Number.isNaN(Date.parse(expires)))) {
    throw new InvalidHeaderError(
      "Stream-Expires-At",
      `"${expires}" is not an RFC 3339 timestamp such as 2030-01-01T00:00:00Z`,
    );
  }
  return { ttlSeconds: ttl === null ? null : parseUint("Stream-TTL", ttl), expiresAt: expires };
}

/** Producer headers come all together or not at all (PROTOCOL.md 5.2.1). */
export function parseProducer(headers: Headers): ProducerTuple | null {
  const id = headers.get(H.producerId);
  const epoch = headers.get(H.producerEpoch);
  const seq = headers.get(H.producerSeq);
  if (id === null && epoch === null && seq === null) return null;
  if (id === null || epoch === null || seq === null) {
    throw new InvalidHeaderError(
      "Producer-Id",
      "send Producer-Id, Producer-Epoch and Producer-Seq together, or none of them",
    );
  }
  if (id === "") throw new InvalidHeaderError("Producer-Id", "must not be empty");
  return {
    producerId: id,
    epoch: parseUint("Producer-Epoch", epoch),
    seq: parseUint("Producer-Seq", seq),
  };
}

export interface ForkRequest {
  readonly sourcePath: string;
  readonly offset: string | null;
  readonly subOffset: number;
}

export function parseFork(headers: Headers, streamRoot: string): ForkRequest | null {
  const from = headers.get(H.forkedFrom);
  const offset = headers.get(H.forkOffset);
  const sub = headers.get(H.forkSubOffset);
  if (from === null) {
    if (offset !== null || sub !== null) {
      throw new InvalidHeaderError(
        offset !== null ? "Stream-Fork-Offset" : "Stream-Fork-Sub-Offset",
        "requires Stream-Forked-From",
      );
    }
    return null;
  }
  const sourcePath = from.startsWith(streamRoot)
    ? from.slice(streamRoot.length)
    : from.replace(/^\/+/, "");
  if (sourcePath === "") throw new InvalidHeaderError("Stream-Forked-From", "names no stream");
  assertStreamPath(sourcePath, "Stream-Forked-From");
  return {
    sourcePath,
    offset,
    subOffset: sub === null ? 0 : parseUint("Stream-Fork-Sub-Offset", sub),
  };
}

export function parseClosed(headers: Headers): boolean {
  return isTrueHeader(headers.get(H.closed));
}
