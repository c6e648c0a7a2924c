/**
 * Flow control of one session WebSocket (the Cloudflare layer's websocket-protocol.ts, "Flow
 * control"): the bytes of events frames sent to it and not yet acknowledged, against its
 * window. Pure.
 *
 * Invariants:
 * 1. `open` is false once the unacknowledged bytes reach the window; the hub sends nothing while
 *    it is, so a client that never acks is sent at most the window plus one frame.
 * 2. An ack releases the bytes of every frame that ends at or before its offset, and never more:
 *    frames are remembered by their last seq in at most ~17 marks (a mark absorbs the frames
 *    after it until it holds 1/16 of the window), so an ack that falls inside a mark releases
 *    up to the mark before it, under by at most 1/16 of the window. An ack of everything sent
 *    releases everything, so a client that acks what it processed is never left at its window.
 * 3. The state is this instance's; a woken object rebuilds an inherited socket's from its acked
 *    seq, charging it with the frames it was sent since (the Cloudflare layer's websocket-hub.ts,
 *    invariant 2).
 */
export class SocketCredit {
  readonly #window: number;
  /** Bytes sent since the socket subscribed, and how many of them are acknowledged. */
  #sent = 0;
  #released = 0;
  /** The socket's acknowledged position (seq): acks at or before it are stale, and ignored. */
  #acked: number;
  /** `sent` at the end of the frame ending at `seq`, oldest first (invariant 2). */
  readonly #marks: { seq: number; sent: number }[] = [];

  constructor(windowBytes: number, from: number) {
    this.#window = windowBytes;
    this.#acked = from;
  }

  /** Whether the socket may be sent another frame (invariant 1). */
  get open(): boolean {
    return this.#sent - this.#released < this.#window;
  }

  /** Bytes sent and not acknowledged. */
  get unacked(): number {
    return this.#sent - this.#released;
  }

  /** The acknowledged position (seq): what the socket's attachment keeps across hibernation. */
  get acked(): number {
    return this.#acked;
  }

  /** Records a frame of `bytes` whose last event is `last`. */
  sent(last: number, bytes: number): void {
    this.#sent += bytes;
    const top = this.#marks.at(-1);
    const base = this.#marks.at(-2)?.sent ?? this.#released;
    if (top !== undefined && top.sent - base < this.#window / 16) {
      top.seq = last;
      top.sent = this.#sent;
    } else this.#marks.push({ seq: last, sent: this.#sent });
  }

  /** An ack of everything up to `seq`; true when it released bytes (the socket may be sent more). */
  ack(seq: number): boolean {
    if (seq <= this.#acked) return false;
    this.#acked = seq;
    const before = this.#released;
    while (this.#marks.length > 0 && (this.#marks[0]?.seq ?? Number.POSITIVE_INFINITY) <= seq)
      this.#released = this.#marks.shift()?.sent ?? this.#released;
    return this.#released > before;
  }
}
