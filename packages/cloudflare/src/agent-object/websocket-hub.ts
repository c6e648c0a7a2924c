import {
  BadRequestError,
  type Caller,
  type Clock,
  type CommandCall,
  type CommandOutcome,
  commandRefusal,
  decodeOffset,
  deliveryWindow,
  dispatchCommand,
  type Ledger,
  type Logger,
  renderError,
  SocketCredit,
} from "@durable-agents/core";
import { charge, type SharedFrame, sharedFrame } from "./socket-frames.ts";
import { SocketStalls } from "./socket-stalls.ts";
import {
  ackedSeq,
  BadFrameError,
  type CommandId,
  closingFrame,
  eventsFrame,
  failedFrame,
  fatalFrame,
  flowFrame,
  inFrameTerms,
  parseFrame,
  responseFrame,
  resultFrame,
  UpgradeRequiredError,
  WS_SLOW_READER,
  WS_STREAM_CLOSED,
  type WsFrame,
} from "./websocket-protocol.ts";

/**
 * Hibernatable WebSockets of one session object.
 *
 * Invariants:
 * 1. Delivery follows the session's delivery window (core's delivery-window.ts): at each
 *    flush every socket is sent everything after its position that its flow-control window
 *    allows (5), in order, one frame per `maxEvents`, and its position moves past what was
 *    sent; so a subscribed socket never skips an event and never sees one twice, and sends are
 *    sockets × flushes, not sockets × events. Sockets at the same position share one
 *    serialized frame.
 * 2. A pending flush is a timer, and so is a paused socket's stall (5), so an object with
 *    appends not yet flushed, or with a socket behind the tail, does not hibernate: an idle
 *    object has every open socket caught up to the ledger tail. A socket's attachment records
 *    that it is subscribed (and from where); a woken instance, which has not appended yet, puts
 *    every socket it did not accept itself at the tail it found (`#baseTail`). Its credit is
 *    charged with what it was sent since its last ack, re-measured from the ledger (the
 *    attachment keeps the acked seq, one write per accepted ack): what it was sent before the
 *    object slept may still be in the runtime's hands, so a fresh window per wake would let a
 *    reader that stopped, on a session that sleeps between small appends, be sent without
 *    bound. No attachment write per send.
 * 3. Nothing else here keeps the object awake: no other timers, no pending promises.
 *    Heartbeats are the runtime's auto-response (`{"type":"ping"}` → `{"type":"pong"}`).
 * 4. A frame is a session command like an HTTP request is: it goes through the command
 *    layer (`dispatchCommand`) as the caller found at the upgrade, whose identity, scopes
 *    and expiry live in the attachment, so they survive hibernation. Once the caller's
 *    token has expired its commands are refused (`token_expired`); the socket still
 *    receives events until it closes. An `ack` is not a command: it only moves the socket's
 *    credit (and its attachment's acked seq), with no command layer and no ledger write.
 * 5. Flow control (websocket-protocol.ts): workerd gives a server WebSocket no backpressure
 *    and no `bufferedAmount` (workerd issue #988, open; `api/web-socket.h` exposes readyState,
 *    url, protocol and extensions only, and the workerd 1.20261102 binary has no
 *    `bufferedAmount` property, although workers-types declares one), so every `send` to a
 *    client that stopped reading would be queued in the object's memory without bound. So a
 *    socket is sent at most `windowBytes` that its client has not acked (socket-credit.ts);
 *    at its window it is paused (nothing is read or held for it), resumed by an ack, and
 *    closed with `WS_SLOW_READER` (4008) after `stallMs` without one (socket-stalls.ts): a
 *    slow reader costs the run nothing and the object at most a window.
 * 6. Every close the hub makes itself (a slow reader's 4008, a closed ledger's 1000 at its end,
 *    a refused subscription's 1008) is preceded by one `closing` frame with its code and reason
 *    (`#shut`): a client acts on that frame, since the close event itself may reach it seconds
 *    later (the closing handshake through a proxy, e.g. `wrangler dev`'s, with Node's
 *    WebSocket). A client that ignores unknown frame types is unaffected.
 */
interface Attachment {
  /** The offset the socket subscribed from. */
  readonly after: number;
  /** The seq its client last acknowledged (flow control), when it has acked (invariant 2). */
  readonly acked?: number;
  /** Who opened the socket (absent on a socket from before callers were recorded: no scopes). */
  readonly caller?: Caller;
  /** The upgrade request's origin, for the equivalent HTTP request command hooks get. */
  readonly origin?: string;
}

/** What a frame's command runs against, besides its caller (see CommandCall). */
export type SocketCommandContext = Omit<CommandCall, "caller" | "transport" | "request" | "origin">;

/** A socket's caller when none was recorded: nothing is allowed. */
const NO_CALLER: Caller = { identity: {}, scopes: [] };

/** One subscribed socket: its position (seq of the last event sent) and its credit. */
interface Subscriber {
  after: number;
  readonly credit: SocketCredit;
  /** Subscribed to a closed session's ledger: closed (1000) once sent its end (`#send`). */
  readonly closeAtEnd?: boolean;
}

export interface WebSocketHubOptions {
  /** Events per frame (`live.maxEvents`). */
  readonly maxEvents: number;
  /** The delivery window, ms (`live.windowMs`). */
  readonly windowMs: number;
  /** Unacknowledged bytes a socket may be sent (`live.wsWindowBytes`). */
  readonly windowBytes: number;
  /** How long a socket may stay at its window without an ack before it is closed (`live.stallMs`). */
  readonly stallMs: number;
  readonly logger: Logger;
}

export class WebSocketHub {
  readonly #ctx: DurableObjectState;
  readonly #options: WebSocketHubOptions;
  /** Each subscribed socket; sockets of an earlier instance are filled in from `#baseTail`. */
  readonly #sockets = new Map<WebSocket, Subscriber>();
  #watching: Ledger | undefined;
  #clock: Clock | undefined;
  #baseTail = 0;
  #adopted = false;
  /** Sockets behind the tail with no credit (invariant 5), closed after `stallMs`. */
  readonly #stalls: SocketStalls<WebSocket>;

  constructor(ctx: DurableObjectState, options: WebSocketHubOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.#stalls = new SocketStalls(
      options.stallMs,
      () => this.#clock?.now() ?? Date.now(),
      (ws) => this.#shut(ws, WS_SLOW_READER),
    );
  }

  /** Fans appends out to the subscribed sockets at each flush of the window. Once per runtime. */
  watch(ledger: Ledger, clock: Clock): void {
    if (this.#watching === ledger) return;
    this.#watching = ledger;
    this.#clock = clock;
    this.#baseTail = ledger.tail;
    deliveryWindow(ledger, clock, this.#options.windowMs).onFlush(() => this.#fanOut(ledger));
  }

  /** `GET .../ws?offset=`: accepts the socket and sends everything after the offset. */
  upgrade(request: Request, ledger: Ledger, caller: Caller): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      throw new UpgradeRequiredError();
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.#ctx.acceptWebSocket(server);
    try {
      const after = decodeOffset(new URL(request.url).searchParams.get("offset"), ledger.tail);
      const origin = new URL(request.url).origin;
      server.serializeAttachment({ after, caller, origin } satisfies Attachment);
      this.#adopt();
      const subscriber = { ...this.#subscriber(after), closeAtEnd: ledger.closed };
      this.#sockets.set(server, subscriber);
      server.send(flowFrame(this.#options.windowBytes));
      this.#catchUp(server, subscriber, ledger);
    } catch (error) {
      // A browser cannot read an HTTP error of a refused upgrade, so the error travels as a frame.
      server.send(fatalFrame(this.#render(error)));
      this.#shut(server, {
        code: 1008,
        reason: error instanceof BadRequestError ? error.code : "error",
      });
    }
    return new Response(null, { status: 101, webSocket: client });
  }

  /** One client frame: a command for the command layer, answered with a `result` frame. */
  async message(
    ws: WebSocket,
    data: string | ArrayBuffer,
    context: () => SocketCommandContext | undefined,
  ): Promise<void> {
    let id: CommandId = null;
    let frame: WsFrame | undefined;
    try {
      frame = parseFrame(data);
      id = frame.id;
      if (frame.type === "ping") return void ws.send(resultFrame(id, "pong"));
      if (frame.type === "ack") return this.#ack(ws, frame.offset, frame.id, context);
      const session = context();
      if (!session)
        throw new BadRequestError(
          "no_session",
          "this object has no session yet; open the socket through /agents/:agent/:session/ws",
        );
      const attachment = ws.deserializeAttachment() as Attachment | null;
      const outcome = await dispatchCommand(frame.name, frame.input, {
        ...session,
        caller: attachment?.caller ?? NO_CALLER,
        transport: "websocket",
        ...(attachment?.origin ? { origin: attachment.origin } : {}),
      });
      const hooked = outcome.response;
      ws.send(
        hooked
          ? await responseFrame(id, hooked)
          : resultFrame(id, outcome.type === "result" ? outcome.result : null, statusOf(outcome)),
      );
    } catch (error) {
      if (error instanceof BadFrameError) id = error.id;
      const refused = this.#refusal(ws, error) ?? (frame ? inFrameTerms(frame, error) : error);
      safeSend(ws, failedFrame(id, this.#render(refused)));
    }
  }

  /**
   * Authorization first: a frame that is no ping, ack or command (a BadFrameError but
   * `invalid_ack`), from a caller that may send no command (its token expired, or it holds no
   * command's scope), is answered with that refusal, under the frame's id, not with what is
   * wrong with the frame (docs/api.md#auth). Undefined when the frame's own error stands.
   */
  #refusal(ws: WebSocket, error: unknown): unknown {
    if (!(error instanceof BadFrameError) || error.code === "invalid_ack") return undefined;
    const attachment = ws.deserializeAttachment() as Attachment | null;
    return commandRefusal(attachment?.caller ?? NO_CALLER, this.#clock?.now() ?? Date.now());
  }

  /** The one error renderer (core's renderError), logging what is not a typed error. */
  #render(error: unknown) {
    return renderError(error, (cause) =>
      this.#options.logger.error("websocket command failed", { error: String(cause) }),
    );
  }

  /** A close the hub makes: a `closing` frame naming it, then the close (invariant 6). */
  #shut(ws: WebSocket, { code, reason }: { readonly code: number; readonly reason: string }): void {
    safeSend(ws, closingFrame(code, reason));
    this.close(ws, code, reason);
  }

  /** Forgets the socket and closes it (the runtime's close and error callbacks end here too). */
  close(ws: WebSocket, code: number, reason: string): void {
    this.#sockets.delete(ws);
    this.#stalls.resume(ws);
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  /** One flush: every socket behind the tail gets what it lacks, frames shared by position. */
  #fanOut(ledger: Ledger): void {
    this.#adopt();
    const frames = new Map<number, SharedFrame>();
    for (const [ws, subscriber] of this.#sockets) this.#send(ws, subscriber, ledger, frames);
    // A live socket stays open after streamClosed: the result of the close command that
    // ended the ledger (if it came over this socket) is still to be sent.
  }

  /**
   * Sends `ws` what it lacks, as far as its credit goes (invariant 5), and closes it (1000) at
   * the end of a closed ledger it subscribed to. False when the socket is gone. `frames`
   * shares frames between the sockets of one flush.
   */
  #send(
    ws: WebSocket,
    subscriber: Subscriber,
    ledger: Ledger,
    frames = new Map<number, SharedFrame>(),
  ): boolean {
    while (subscriber.after < ledger.tail) {
      if (!subscriber.credit.open) {
        this.#stalls.pause(ws);
        return true;
      }
      const frame = sharedFrame(ledger, subscriber.after, this.#options, frames);
      if (frame === undefined) break;
      if (!safeSend(ws, frame.text)) {
        this.#sockets.delete(ws);
        this.#stalls.resume(ws);
        return false;
      }
      charge(subscriber, frame);
    }
    this.#stalls.resume(ws);
    if (subscriber.closeAtEnd !== true || subscriber.after < ledger.tail) return true;
    this.#shut(ws, WS_STREAM_CLOSED);
    return false;
  }

  /** The upgrade's catch-up; at the end of a closed ledger the socket learns so and is closed. */
  #catchUp(ws: WebSocket, subscriber: Subscriber, ledger: Ledger): void {
    // Subscribed at the end of a closed ledger: an empty frame says streamClosed.
    const atEnd = subscriber.closeAtEnd === true && subscriber.after >= ledger.tail;
    if (atEnd && !safeSend(ws, eventsFrame([], ledger.tail, true, subscriber.after).text)) {
      this.#sockets.delete(ws);
      return;
    }
    this.#send(ws, subscriber, ledger);
  }

  /**
   * `{"type":"ack","offset"}`: releases the socket's credit and, if it was paused, sends it
   * what it lacks. Cheap: no command layer, no ledger write (invariant 4).
   */
  #ack(
    ws: WebSocket,
    offset: string,
    id: CommandId,
    context: () => SocketCommandContext | undefined,
  ): void {
    // A woken instance has not opened its runtime yet; opening it watches the ledger.
    if (this.#watching === undefined) context();
    const ledger = this.#watching;
    this.#adopt();
    const subscriber = this.#sockets.get(ws);
    if (ledger === undefined || subscriber === undefined)
      throw new BadFrameError(
        "invalid_ack",
        "this socket is not subscribed to a session; open it through /agents/:agent/:session/ws",
        id,
      );
    const before = subscriber.credit.acked;
    const released = subscriber.credit.ack(ackedSeq(offset, subscriber.after, id));
    // Kept across hibernation (invariant 2): a few writes per window, one per accepted ack.
    if (subscriber.credit.acked !== before) {
      const attachment = ws.deserializeAttachment() as Attachment;
      ws.serializeAttachment({ ...attachment, acked: subscriber.credit.acked });
    }
    if (!released || !this.#stalls.has(ws)) return;
    // An ack that releases credit ends the stall; if the socket is still behind and back at its
    // window after what it is now sent, its next stall counts from here (socket-stalls.ts 2).
    this.#stalls.resume(ws);
    this.#send(ws, subscriber, ledger);
  }

  /**
   * A socket of an earlier instance, at the tail it found (invariant 2), its credit charged with
   * what it was sent since its last ack (or its subscription), measured as frames from the
   * ledger up to the window: the runtime may still hold those bytes for a client that stopped
   * reading, so a woken instance does not give it a fresh window.
   */
  #inherited(attachment: Attachment, frames: Map<number, SharedFrame>): Subscriber {
    const subscriber = this.#subscriber(attachment.acked ?? attachment.after);
    const ledger = this.#watching;
    while (ledger !== undefined && subscriber.after < this.#baseTail && subscriber.credit.open) {
      const frame = sharedFrame(ledger, subscriber.after, this.#options, frames);
      if (frame === undefined || frame.last > this.#baseTail) break;
      charge(subscriber, frame);
    }
    subscriber.after = Math.max(attachment.after, this.#baseTail);
    return subscriber;
  }

  #subscriber(after: number): Subscriber {
    return { after, credit: new SocketCredit(this.#options.windowBytes, after) };
  }

  /** Once per instance: the subscribed sockets that survived hibernation, at the tail (invariant 2). */
  #adopt(): void {
    if (this.#adopted) return;
    this.#adopted = true;
    // Sockets acked at the same position share the frames measured for them.
    const frames = new Map<number, SharedFrame>();
    for (const ws of this.#ctx.getWebSockets()) {
      const attachment = ws.deserializeAttachment() as Attachment | null;
      if (attachment !== null && typeof attachment.after === "number" && !this.#sockets.has(ws))
        this.#sockets.set(ws, this.#inherited(attachment, frames));
    }
  }
}

function statusOf(outcome: CommandOutcome): number {
  return outcome.type === "result" ? outcome.status : outcome.response.status;
}

function safeSend(ws: WebSocket, frame: string): boolean {
  try {
    ws.send(frame);
    return true;
  } catch {
    return false;
  }
}
