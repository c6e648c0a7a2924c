/**
 * An incremental Server-Sent Events parser (WHATWG HTML "event stream
 * interpretation"), fed text in arbitrary chunks.
 *
 * Invariants:
 * 1. Chunk boundaries never change the result: a line, a CRLF pair or a
 *    field may be split anywhere.
 * 2. Lines end with CRLF, LF or CR. A CR at the end of a chunk is held until
 *    the next chunk shows whether an LF follows.
 * 3. Comment lines (`:` first) and unknown fields are ignored; several `data:`
 *    lines join with `\n`; an event with no data line is not dispatched.
 * 4. An event is emitted only at its blank line, so a connection that breaks
 *    mid-event never yields half an event.
 */
export interface SseMessage {
  /** The `event:` field, or "message" when absent. */
  readonly event: string;
  readonly data: string;
  /** The last `id:` seen on this stream (ids persist across events, per spec). */
  readonly id: string | undefined;
  readonly retryMs: number | undefined;
}

export class SseParser {
  #buffer = "";
  #pendingCr = false;
  #started = false;
  #eventType = "";
  #data: string[] = [];
  #hasData = false;
  #lastId: string | undefined;
  #retryMs: number | undefined;

  /** Feeds decoded text; returns the events completed by it. */
  feed(text: string): SseMessage[] {
    let chunk = text;
    if (!this.#started && chunk.length > 0) {
      this.#started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.#pendingCr) {
      this.#pendingCr = false;
      if (chunk.startsWith("\n")) chunk = chunk.slice(1);
    }
    this.#buffer += chunk;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(this.#buffer.slice(start, i), out);
      if (c === 13) {
        if (i + 1 === this.#buffer.length) this.#pendingCr = true;
        else if (this.#buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return out;
  }

  #line(line: string, out: SseMessage[]): void {
    if (line === "") {
      this.#dispatch(out);
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#eventType = value;
        break;
      case "data":
        this.#data.push(value);
        this.#hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.#lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retryMs = Number(value);
        break;
    }
  }

  #dispatch(out: SseMessage[]): void {
    if (this.#hasData) {
      out.push({
        event: this.#eventType === "" ? "message" : this.#eventType,
        data: this.#data.join("\n"),
        id: this.#lastId,
        retryMs: this.#retryMs,
      });
    }
    this.#eventType = "";
    this.#data = [];
    this.#hasData = false;
  }
}

/** Reads a byte stream as SSE messages. Stops (without error) when the body ends. */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<SseMessage, void, undefined> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
    // A final event without its blank line is incomplete and is dropped (invariant 4).
    parser.feed(decoder.decode());
  } finally {
    // Cancelling releases the connection when the consumer stops early.
    await reader.cancel().catch(() => {});
  }
}
