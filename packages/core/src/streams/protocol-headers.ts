/** Header and query names of the Durable Streams protocol (PROTOCOL.md v1.0), lower-cased. */
export const H = {
  nextOffset: "stream-next-offset",
  upToDate: "stream-up-to-date",
  closed: "stream-closed",
  cursor: "stream-cursor",
  seq: "stream-seq",
  ttl: "stream-ttl",
  expiresAt: "stream-expires-at",
  forkedFrom: "stream-forked-from",
  forkOffset: "stream-fork-offset",
  forkSubOffset: "stream-fork-sub-offset",
  sseEncoding: "stream-sse-data-encoding",
  producerId: "producer-id",
  producerEpoch: "producer-epoch",
  producerSeq: "producer-seq",
  producerExpectedSeq: "producer-expected-seq",
  producerReceivedSeq: "producer-received-seq",
} as const;

/** Cache policy for HEAD, `offset=now` and empty tail reads: never cache a tail position. */
export const NO_STORE = "no-store";

/** The spec's `Stream-Closed` rule: present only when the value is exactly `true`, any case. */
export function isTrueHeader(value: string | null): boolean {
  return value !== null && value.toLowerCase() === "true";
}
