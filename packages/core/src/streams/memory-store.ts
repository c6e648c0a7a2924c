/** In-memory store for Node unit tests and the in-memory server. Same contract as DO SQLite. */
import type { ProducerState, StoredChunk, StreamMeta, StreamStore, StreamWriter } from "./store.ts";

export class MemoryStreamStore implements StreamStore {
  private meta: StreamMeta | null = null;
  private producers = new Map<string, ProducerState>();
  private chunks: StoredChunk[] = [];

  getMeta(): StreamMeta | null {
    return this.meta;
  }

  getProducer(producerId: string): ProducerState | null {
    return this.producers.get(producerId) ?? null;
  }

  readChunks(from: number, until: number, maxBytes: number): StoredChunk[] {
    const out: StoredChunk[] = [];
    let bytes = 0;
    for (let i = firstEndAbove(this.chunks, from); i < this.chunks.length; i++) {
      const chunk = this.chunks[i] as StoredChunk;
      if (chunk.end > until || (out.length > 0 && bytes + chunk.data.byteLength > maxBytes)) break;
      out.push(chunk);
      bytes += chunk.data.byteLength;
    }
    return out;
  }

  transaction<T>(fn: (writer: StreamWriter) => T): T {
    let meta = this.meta;
    let wiped = false;
    const producers = new Map<string, ProducerState>();
    const added: StoredChunk[] = [];
    const writer: StreamWriter = {
      putMeta: (next) => {
        meta = next;
      },
      putProducer: (id, state) => {
        producers.set(id, state);
      },
      appendChunks: (chunks) => {
        added.push(...chunks);
      },
      wipe: () => {
        wiped = true;
        meta = null;
        producers.clear();
        added.length = 0;
      },
    };
    const result = fn(writer);
    if (wiped) {
      this.producers = new Map();
      this.chunks = [];
    }
    this.meta = meta;
    for (const [id, state] of producers) this.producers.set(id, state);
    this.chunks.push(...added);
    return result;
  }
}

function firstEndAbove(chunks: readonly StoredChunk[], position: number): number {
  let lo = 0;
  let hi = chunks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((chunks[mid] as StoredChunk).end > position) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
