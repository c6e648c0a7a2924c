/**
 * The only functions that write a stream. `commitAppend` is the single writer of data and
 * producer state: chunks, producer state and metadata land in one transaction.
 */
import { buildChunks } from "../chunks.ts";
import type { StoredChunk, StreamMeta, StreamStore } from "../store.ts";
import type { AppendPlan } from "./append-plan.ts";

type Accepted = Extract<AppendPlan, { kind: "append" }>;

export function commitAppend(
  store: StreamStore,
  meta: StreamMeta,
  plan: Accepted,
  now: number,
): StreamMeta {
  const chunks = plan.content === null ? [] : buildChunks(meta.tail, plan.content);
  const last = chunks[chunks.length - 1];
  const next: StreamMeta = {
    ...meta,
    tail: last === undefined ? meta.tail : last.end,
    closed: meta.closed || plan.close,
    closedBy: plan.close && plan.producer !== null ? plan.producer.tuple : meta.closedBy,
    lastStreamSeq: plan.streamSeq ?? meta.lastStreamSeq,
    lastAccessAt: now,
  };
  store.transaction((writer) => {
    if (chunks.length > 0) writer.appendChunks(chunks);
    if (plan.producer !== null)
      writer.putProducer(plan.producer.tuple.producerId, plan.producer.next);
    writer.putMeta(next);
  });
  return next;
}

export function commitCreate(
  store: StreamStore,
  meta: StreamMeta,
  chunks: readonly StoredChunk[],
): void {
  store.transaction((writer) => {
    writer.wipe();
    if (chunks.length > 0) writer.appendChunks(chunks);
    writer.putMeta(meta);
  });
}

export function commitMeta(store: StreamStore, meta: StreamMeta): void {
  store.transaction((writer) => writer.putMeta(meta));
}

export function commitWipe(store: StreamStore): void {
  store.transaction((writer) => writer.wipe());
}
