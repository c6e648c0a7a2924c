/**
 * Decide an append. Pure: given the stream's metadata, the producer's state and the parsed
 * request, return what to do. `commitAppends` is the one function that carries it out.
 *
 * Order of checks (PROTOCOL.md 5.2 "Error Precedence", 5.2.1):
 * 1. A closed stream answers first; the producer tuple that closed it is a duplicate.
 * 2. Content type, for requests with a body.
 * 3. Producer validation, before Stream-Seq, so retries deduplicate.
 * 4. Stream-Seq must grow byte-wise.
 */
import type { AppendContent } from "../chunks.ts";
import type { ProducerState, ProducerTuple, StreamMeta } from "../store.ts";
import { type ProducerOutcome, validateProducer } from "./producer.ts";

export interface AppendRequest {
  /** null for a close-only request (empty body with Stream-Closed: true). */
  readonly content: AppendContent | null;
  readonly contentTypeMatches: boolean;
  readonly close: boolean;
  readonly producer: ProducerTuple | null;
  readonly streamSeq: string | null;
}

export type AppendPlan =
  | {
      readonly kind: "append";
      readonly content: AppendContent | null;
      readonly close: boolean;
      readonly producer: { readonly tuple: ProducerTuple; readonly next: ProducerState } | null;
      readonly streamSeq: string | null;
    }
  | { readonly kind: "already_closed" }
  | { readonly kind: "closed_duplicate" }
  | { readonly kind: "closed_conflict" }
  | { readonly kind: "content_type_mismatch" }
  | { readonly kind: "stream_seq_regression"; readonly last: string }
  | Exclude<ProducerOutcome, { kind: "accepted" }>;

export function planAppend(
  meta: StreamMeta,
  producerState: ProducerState | null,
  request: AppendRequest,
): AppendPlan {
  const { producer } = request;
  if (meta.closed) {
    const by = meta.closedBy;
    if (
      producer !== null &&
      by !== null &&
      by.producerId === producer.producerId &&
      by.epoch === producer.epoch &&
      by.seq === producer.seq
    ) {
      return { kind: "closed_duplicate" };
    }
    if (producer !== null && producerState !== null && producer.epoch < producerState.epoch) {
      return { kind: "stale_epoch", currentEpoch: producerState.epoch };
    }
    if (request.content === null && request.close && producer === null)
      return { kind: "already_closed" };
    return { kind: "closed_conflict" };
  }
  if (request.content !== null && !request.contentTypeMatches)
    return { kind: "content_type_mismatch" };
  let accepted: { tuple: ProducerTuple; next: ProducerState } | null = null;
  if (producer !== null) {
    const outcome = validateProducer(producerState, producer);
    if (outcome.kind !== "accepted") return outcome;
    accepted = { tuple: producer, next: outcome.next };
  }
  if (
    request.streamSeq !== null &&
    meta.lastStreamSeq !== null &&
    request.streamSeq <= meta.lastStreamSeq
  ) {
    return { kind: "stream_seq_regression", last: meta.lastStreamSeq };
  }
  return {
    kind: "append",
    content: request.content,
    close: request.close,
    producer: accepted,
    streamSeq: request.streamSeq,
  };
}
