/**
 * The only functions that write a stream. `commitAppends` is the single writer of data and
 * producer state: chunks, producer state and metadata land in one transaction.
 */
import type { ProducerState, StoredChunk, StreamMeta, StreamStore } from "../store.ts";

/**
 * One batch of appends (append-batch.ts): their chunks in order, each producer's last
 * state, and the stream's metadata after the last of them.
 */
export function commitAppends(
  store: StreamStore,
  next: StreamMeta,
  chunks: readonly StoredChunk[],
  producers: ReadonlyMap<string, ProducerState>,
): void {
  store.transaction((writer) => {
    if (chunks.length > 0) writer.appendChunks(chunks);
    for (const [producerId, state] of producers) writer.putProducer(producerId, state);
    writer.putMeta(next);
  });
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
