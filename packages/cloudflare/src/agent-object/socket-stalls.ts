/**
 * The stall clock of paused sockets (websocket-hub.ts invariant 5): a socket paused at its
 * flow-control window for `stallMs` is handed to `onStall` (the hub closes it, 4008).
 *
 * Invariants:
 * 1. One timer for all paused sockets, armed only while some socket is paused: an object with
 *    a paused socket stays awake (a pending timer keeps a Durable Object from hibernating), and
 *    one with none has nothing pending here.
 * 2. A socket's stall counts from its first pause since it last moved (`resume` forgets it), so
 *    a reader that acks now and then is never closed, and one that never does is closed once.
 */
export class SocketStalls<Socket> {
  readonly #stallMs: number;
  readonly #now: () => number;
  readonly #onStall: (socket: Socket) => void;
  /** Each paused socket and when it was paused. */
  readonly #paused = new Map<Socket, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(stallMs: number, now: () => number, onStall: (socket: Socket) => void) {
    this.#stallMs = stallMs;
    this.#now = now;
    this.#onStall = onStall;
  }

  has(socket: Socket): boolean {
    return this.#paused.has(socket);
  }

  /** The socket is at its window with more to send; its stall starts unless it has already. */
  pause(socket: Socket): void {
    if (this.#paused.has(socket)) return;
    this.#paused.set(socket, this.#now());
    this.#arm();
  }

  /** The socket moved (or is gone): its stall ends, and with the last one the timer. */
  resume(socket: Socket): void {
    if (!this.#paused.delete(socket) || this.#paused.size > 0 || this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    let first = Number.POSITIVE_INFINITY;
    for (const at of this.#paused.values()) if (at < first) first = at;
    if (first === Number.POSITIVE_INFINITY) return;
    const wait = Math.max(0, first + this.#stallMs - this.#now());
    this.#timer = setTimeout(() => this.#fire(), wait);
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#now();
    for (const [socket, at] of this.#paused)
      if (now - at >= this.#stallMs) {
        this.#paused.delete(socket);
        this.#onStall(socket);
      }
    this.#arm();
  }
}
