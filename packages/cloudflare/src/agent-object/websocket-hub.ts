import {
  BadRequestError,
  type Caller,
  type CommandCall,
  type CommandOutcome,
  decodeOffset,
  dispatchCommand,
  type Ledger,
  type LedgerEvent,
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
 * 1. Delivery is synchronous with the append (ledger.onAppend runs in the same tick), so a
 *    subscribed socket never skips an event and never sees one twice.
 * 2. Hence an idle object has every open socket caught up to the ledger tail, and only an
 *    idle object hibernates. A socket's attachment records that it is subscribed (and from
 *    where); a woken instance, which has not appended yet, puts every socket it did not
 *    accept itself at the tail it found (`#baseTail`). No attachment write per send is needed,
 *    which keeps the cost of an append O(sockets) sends and nothing else.
 * 3. Nothing here keeps the object awake: no timers, no pending promises. Heartbeats are the
 *    runtime's auto-response (`{"type":"ping"}` → `{"type":"pong"}`).
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
  readonly #logger: Logger;
  /** Where each socket is; sockets of an earlier instance are filled in from `#baseTail`. */
  readonly #after = new Map<WebSocket, number>();
  #watching: Ledger | undefined;
  #baseTail = 0;
  #adopted = false;

  constructor(ctx: DurableObjectState, options: { maxEvents: number; logger: Logger }) {
    this.#ctx = ctx;
    this.#maxEvents = options.maxEvents;
    this.#logger = options.logger;
  }

  /** Fans every append out to the subscribed sockets. Call once per runtime. */
  watch(ledger: Ledger): void {
    if (this.#watching === ledger) return;
    this.#watching = ledger;
    this.#baseTail = ledger.tail;
    ledger.onAppend((events) => this.#fanOut(ledger, events));
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

  #fanOut(ledger: Ledger, fresh: readonly LedgerEvent[]): void {
    const first = fresh[0]?.seq;
    if (first === undefined) return;
    let shared: string | undefined;
    const last = fresh.at(-1)?.seq ?? first;
    this.#adopt();
    for (const [ws, after] of this.#after) {
      if (after >= last) continue;
      if (after === first - 1) {
        shared ??= eventsFrame(fresh, ledger.tail, ledger.closed);
        if (safeSend(ws, shared)) this.#after.set(ws, last);
        else this.#after.delete(ws);
        // A live socket stays open after streamClosed: the result of the close command that
        // ended the ledger (if it came over this socket) is still to be sent.
      } else {
        this.#catchUp(ws, ledger);
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
