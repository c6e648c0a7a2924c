import {
  BadRequestError,
  type Caller,
  type Clock,
  type CommandCall,
  type CommandOutcome,
  decodeOffset,
  deliveryWindow,
  dispatchCommand,
  type Ledger,
  type Logger,
  renderError,
  UserError,
} from "@durable-agents/core";
import {
  BadFrameError,
  type CommandId,
  eventsFrame,
  failedFrame,
  fatalFrame,
  parseFrame,
  responseFrame,
  resultFrame,
} from "./websocket-protocol.ts";

/**
 * Hibernatable WebSockets of one session object.
 *
 * Invariants:
 * 1. Delivery follows the session's delivery window (core's delivery-window.ts): at each
 *    flush every socket is sent everything after its position, in order, one frame per
 *    `maxEvents`, and its position moves past what was sent; so a subscribed socket never
 *    skips an event and never sees one twice, and sends are sockets × flushes, not sockets ×
 *    events. Sockets at the same position share one serialized frame.
 * 2. A pending flush is a timer, so an object with appends not yet flushed does not
 *    hibernate: an idle object has every open socket caught up to the ledger tail. A socket's
 *    attachment records that it is subscribed (and from where); a woken instance, which has
 *    not appended yet, puts every socket it did not accept itself at the tail it found
 *    (`#baseTail`). No attachment write per send is needed.
 * 3. Nothing else here keeps the object awake: no other timers, no pending promises.
 *    Heartbeats are the runtime's auto-response (`{"type":"ping"}` → `{"type":"pong"}`).
 * 4. A frame is a session command like an HTTP request is: it goes through the command
 *    layer (`dispatchCommand`) as the caller found at the upgrade, whose identity, scopes
 *    and expiry live in the attachment, so they survive hibernation. Once the caller's
 *    token has expired its commands are refused (`token_expired`); the socket still
 *    receives events until it closes.
 */
interface Attachment {
  /** The offset the socket subscribed from. */
  readonly after: number;
  /** Who opened the socket (absent on a socket from before callers were recorded: no scopes). */
  readonly caller?: Caller;
  /** The upgrade request's origin, for the equivalent HTTP request command hooks get. */
  readonly origin?: string;
}

/** What a frame's command runs against, besides its caller (see CommandCall). */
export type SocketCommandContext = Omit<CommandCall, "caller" | "transport" | "request" | "origin">;

/** A socket's caller when none was recorded: nothing is allowed. */
const NO_CALLER: Caller = { identity: {}, scopes: [] };

export class UpgradeRequiredError extends UserError {
  override name = "UpgradeRequiredError";
  constructor() {
    super(
      "upgrade_required",
      426,
      "GET .../ws needs a WebSocket upgrade (Upgrade: websocket); use GET .../events?live=sse for a plain HTTP stream",
    );
  }
}

export class WebSocketHub {
  readonly #ctx: DurableObjectState;
  readonly #maxEvents: number;
  readonly #windowMs: number;
  readonly #logger: Logger;
  /** Where each socket is; sockets of an earlier instance are filled in from `#baseTail`. */
  readonly #after = new Map<WebSocket, number>();
  #watching: Ledger | undefined;
  #baseTail = 0;
  #adopted = false;

  constructor(
    ctx: DurableObjectState,
    options: { maxEvents: number; windowMs: number; logger: Logger },
  ) {
    this.#ctx = ctx;
    this.#maxEvents = options.maxEvents;
    this.#windowMs = options.windowMs;
    this.#logger = options.logger;
  }

  /** Fans appends out to the subscribed sockets at each flush of the window. Once per runtime. */
  watch(ledger: Ledger, clock: Clock): void {
    if (this.#watching === ledger) return;
    this.#watching = ledger;
    this.#baseTail = ledger.tail;
    deliveryWindow(ledger, clock, this.#windowMs).onFlush(() => this.#fanOut(ledger));
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
      this.#after.set(server, after);
      this.#catchUp(server, ledger);
    } catch (error) {
      // A browser cannot read an HTTP error of a refused upgrade, so the error travels as a frame.
      server.send(fatalFrame(this.#render(error)));
      server.close(1008, error instanceof BadRequestError ? error.code : "error");
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
    try {
      const frame = parseFrame(data);
      id = frame.id;
      if (frame.type === "ping") return void ws.send(resultFrame(id, "pong"));
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
      safeSend(ws, failedFrame(id, this.#render(error)));
    }
  }

  /** The one error renderer (core's renderError), logging what is not a typed error. */
  #render(error: unknown) {
    return renderError(error, (cause) =>
      this.#logger.error("websocket command failed", { error: String(cause) }),
    );
  }

  close(ws: WebSocket, code: number, reason: string): void {
    this.#after.delete(ws);
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
    for (const [ws, start] of this.#after) {
      for (let after = start; after < ledger.tail; ) {
        let frame = frames.get(after);
        if (frame === undefined) {
          const events = ledger.read(after, this.#maxEvents);
          const last = events.at(-1)?.seq;
          if (last === undefined) break;
          frame = { text: eventsFrame(events, ledger.tail, ledger.closed, after), last };
          frames.set(after, frame);
        }
        if (!safeSend(ws, frame.text)) {
          this.#after.delete(ws);
          break;
        }
        this.#after.set(ws, frame.last);
        after = frame.last;
        // A live socket stays open after streamClosed: the result of the close command that
        // ended the ledger (if it came over this socket) is still to be sent.
      }
    }
  }

  #catchUp(ws: WebSocket, ledger: Ledger): void {
    for (;;) {
      const after = this.#after.get(ws) ?? ledger.tail;
      const events = ledger.read(after, this.#maxEvents);
      const last = events.at(-1);
      // At the end of a closed ledger the reader learns so (even with nothing left to send).
      if (!last && !ledger.closed) return;
      if (!safeSend(ws, eventsFrame(events, ledger.tail, ledger.closed, after))) {
        this.#after.delete(ws);
        return;
      }
      if (!last || (ledger.closed && last.seq >= ledger.tail)) {
        this.close(ws, 1000, "stream closed");
        return;
      }
      this.#after.set(ws, last.seq);
    }
  }

  /** Once per instance: the subscribed sockets that survived hibernation, at the tail (invariant 2). */
  #adopt(): void {
    if (this.#adopted) return;
    this.#adopted = true;
    for (const ws of this.#ctx.getWebSockets()) {
      const attachment = ws.deserializeAttachment() as Attachment | null;
      if (attachment !== null && typeof attachment.after === "number" && !this.#after.has(ws))
        this.#after.set(ws, Math.max(attachment.after, this.#baseTail));
    }
  }
}

/** A frame built once per flush for every socket at one position. */
interface SharedFrame {
  readonly text: string;
  /** seq of its last event: where the socket is after it. */
  readonly last: number;
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
