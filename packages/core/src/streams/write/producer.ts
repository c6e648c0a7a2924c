/**
 * Idempotent producer validation (PROTOCOL.md 5.2.1). Pure: it reads state and returns a
 * tagged outcome; only `commitAppends` writes the proposed state.
 */
import type { ProducerState, ProducerTuple } from "../store.ts";

export type ProducerOutcome =
  | { readonly kind: "accepted"; readonly next: ProducerState }
  | { readonly kind: "duplicate"; readonly lastSeq: number }
  | { readonly kind: "stale_epoch"; readonly currentEpoch: number }
  | { readonly kind: "epoch_seq_not_zero" }
  | { readonly kind: "sequence_gap"; readonly expected: number; readonly received: number };

export function validateProducer(
  state: ProducerState | null,
  tuple: ProducerTuple,
): ProducerOutcome {
  const { epoch, seq } = tuple;
  if (state === null) {
    if (seq !== 0) return { kind: "sequence_gap", expected: 0, received: seq };
    return { kind: "accepted", next: { epoch, lastSeq: 0 } };
  }
  if (epoch < state.epoch) return { kind: "stale_epoch", currentEpoch: state.epoch };
  if (epoch > state.epoch) {
    if (seq !== 0) return { kind: "epoch_seq_not_zero" };
    return { kind: "accepted", next: { epoch, lastSeq: 0 } };
  }
  if (seq <= state.lastSeq) return { kind: "duplicate", lastSeq: state.lastSeq };
  if (seq === state.lastSeq + 1) return { kind: "accepted", next: { epoch, lastSeq: seq } };
  return { kind: "sequence_gap", expected: state.lastSeq + 1, received: seq };
}
