import {
  assertJsonDepth,
  BadRequestError,
  type CommandName,
  decodeOffset,
  encodeOffset,
  isCommandName,
  type LedgerEvent,
  LIMITS,
  type RenderedError,
  SESSION_COMMANDS,
  START_OFFSET,
  takeUntilBudget,
  toWire,
  UserError,
  utf8Length,
} from "@durable-agents/core";

/**
 * The session WebSocket protocol (docs/delivery.md). Pure: parsing client
 * frames and building server frames, so it is tested without a socket.
 *
 * Server → client:
 * - `{"type":"flow","windowBytes"}` first, once per socket: the flow-control window (below);
 * - `{"type":"events","events":[...],"nextOffset","upToDate","streamClosed"?}` ledger events
 *   after the socket's offset, exactly once and in order; `streamClosed` at the end of a
 *   closed session's ledger (a socket that subscribes there is then closed, 1000);
 * - `{"type":"result","id","ok":true,"status","result"}` or `{"type":"result","id","ok":false,"error"}`
 *   answers one command; a bad frame is answered the same way and changes nothing;
 * - `{"type":"error","error"}` is fatal for the subscription, and the socket closes after it;
 * - `{"type":"closing","code","reason"}` last, right before every close the server makes itself
 *   (`closingFrame`): the close's code and reason, so a client acts on it (reconnects from its
 *   offset after 1000, 1001 or 4008; stops after another) without waiting for the close
 *   handshake, which a proxy may hold up for seconds. Closes by the runtime or the network (a
 *   deploy's 1001, a lost connection's 1006) come without it.
 * Client → server: `{"type":<command>, "id"?, ...input}` for every session command
 * (`start`, `interrupt`, `abort`, `resume`, `retry`, `close`, `fork`, `state.set`,
 * `schedule.create`, `schedule.cancel`, `usage.record`; the input is the command's HTTP
 * body), `{"type":"approve",...}` (a resume with decisions), `{"type":"ack","offset"}` (flow
 * control, below) and `{"type":"ping"}`, answered `{"type":"pong"}` by the runtime without
 * waking the object.
 *
 * Flow control (credit, like HTTP/2's WINDOW_UPDATE, RFC 9113 section 5.2): a socket is sent at
 * most `windowBytes` of `events` frames (their UTF-8 length, `frameBytes`) that its client has
 * not acknowledged. `{"type":"ack","offset":"<nextOffset>"}` acknowledges every events frame up
 * to the one with that `nextOffset`; clients send it after processing about half the window
 * since their last ack, so a few acks per window, never one per frame. An ack is not answered;
 * a bad one (malformed, or past what the socket was sent) gets `ok:false` `invalid_ack` and
 * changes nothing. A socket at its window is sent nothing more (its position stays, so nothing
 * is skipped or sent twice) and after `live.stallMs` without an ack is closed with
 * `WS_SLOW_READER` (4008); its client reconnects from the offset of the last frame it processed.
 * A client that never acks therefore works, one window per connection.
 */
export const WS_PING = '{"type":"ping"}';
export const WS_PONG = '{"type":"pong"}';
export const WS_MAX_FRAME_BYTES = LIMITS.maxBodyBytes;

/**
 * The close of a socket that stayed at its flow-control window for `live.stallMs` without an
 * ack: not an error, a cue to reconnect from the offset of the last events frame processed.
 * 4000-4999 are for applications (RFC 6455 section 7.4.2).
 */
export const WS_SLOW_READER = {
  code: 4008,
  reason: "slow reader; reconnect from your offset",
} as const;

/** The close of a socket subscribed to a closed session's ledger, once it was sent its end. */
export const WS_STREAM_CLOSED = { code: 1000, reason: "stream closed" } as const;

/** Frame types besides the command names: `approve` (a resume with decisions), `ack`, `ping`. */
export const WS_ALIASES = ["approve", "ack", "ping"] as const;

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

/** What one client frame asks for: a session command with its raw input, or a ping. */
export type WsFrame =
  | {
      readonly type: "command";
      readonly id: CommandId;
      readonly name: CommandName;
      readonly input: unknown;
      /**
       * Where the frame's own fields sit in `input`, when the frame is not the input as it is
       * (a one-decision approve frame is `approvals.0`): a refusal names them (inFrameTerms).
       */
      readonly at?: string;
    }
  | { readonly type: "ping"; readonly id: CommandId }
  /** Flow control: the client processed every events frame up to `offset` (a `nextOffset`). */
  | { readonly type: "ack"; readonly id: CommandId; readonly offset: string };

export type CommandId = string | number | null;

/** A frame that cannot be a command; answered with `ok:false` under the frame's id if it had one. */
export class BadFrameError extends BadRequestError {
  override name = "BadFrameError";
  readonly id: CommandId;
  constructor(
    code: string,
    message: string,
    id: CommandId = null,
    issues?: readonly { path: string; message: string }[],
  ) {
    super(code, message, issues ? { details: { issues } } : undefined);
    this.id = id;
  }
}

/**
 * Decides what one client frame asks for. Throws BadFrameError; never touches the
 * session. The input is the frame without `type` and `id`: the HTTP body of the same
 * command, validated by the command layer like the body is.
 */
export function parseFrame(data: string | ArrayBuffer): WsFrame {
  if (typeof data !== "string")
    throw new BadFrameError(
      "binary_frame",
      "binary WebSocket frames are not supported; send commands as JSON text frames",
    );
  if (data.length > WS_MAX_FRAME_BYTES)
    throw new BadFrameError(
      "frame_too_large",
      `the frame is longer than ${WS_MAX_FRAME_BYTES} characters; send a smaller command (see docs/limits.md)`,
    );
  // The same nesting limit as an HTTP body, before anything recursive walks the frame.
  assertJsonDepth(data, "the frame");
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new BadFrameError(
      "malformed_frame",
      `the frame is not JSON: ${JSON.stringify(data.slice(0, 60))}; send {"type":"start","input":{"message":"..."}} or another command`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new BadFrameError("malformed_frame", 'a command frame must be a JSON object with "type"');
  const { type, id = null, ...input } = value as Record<string, unknown>;
  if (!(id === null || typeof id === "number" || (typeof id === "string" && id.length <= 128)))
    throw new BadFrameError(
      "invalid_command",
      "a command id must be a number or a string of at most 128 characters",
    );
  const cid = id as CommandId;
  if (type === "ping") return { type: "ping", id: cid };
  if (type === "ack") {
    if (typeof input.offset !== "string" || Object.keys(input).length !== 1)
      throw new BadFrameError(
        "invalid_ack",
        'an ack is {"type":"ack","offset":"<nextOffset of the last events frame you processed>"} and nothing else',
        cid,
      );
    return { type: "ack", id: cid, offset: input.offset };
  }
  // {"type":"approve","callId","approved",...} or {"type":"approve","approvals":[...]}: one
  // shape or the other, never both (which a frame could make contradict itself).
  if (type === "approve") {
    if (!Object.hasOwn(input, "approvals"))
      return {
        type: "command",
        id: cid,
        name: "resume",
        input: { approvals: [input] },
        at: ONE_DECISION_AT,
      };
    const beside = Object.keys(input).filter((key) => key !== "approvals");
    if (beside.length > 0) throw approveShapesError(beside, cid);
    return { type: "command", id: cid, name: "resume", input };
  }
  if (!isCommandName(type))
    throw new BadFrameError(
      "unknown_command",
      `unknown command ${JSON.stringify(String(type ?? "(missing)").slice(0, 40))}; use one of: ${[...Object.keys(SESSION_COMMANDS), ...WS_ALIASES].join(", ")}`,
      cid,
    );
  return { type: "command", id: cid, name: type, input };
}

/** Where a one-decision approve frame's fields are in the resume it becomes. */
const ONE_DECISION_AT = "approvals.0";

/**
 * `error`, a command's 400 with `details.issues`, naming the frame's own fields where the
 * frame is not the command's input as it is (`frame.at`): `approvals.0.reasn` is the frame's
 * `reasn`, `approvals.0` the frame. Any other error, or another frame's, is returned unchanged.
 */
export function inFrameTerms(frame: WsFrame, error: unknown): unknown {
  const at = frame.type === "command" ? frame.at : undefined;
  const issues = error instanceof BadRequestError ? error.details?.issues : undefined;
  if (at === undefined || !Array.isArray(issues)) return error;
  const named = (issues as { path: string; message: string }[]).map(({ path, message }) => ({
    path: path === at ? "(root)" : path.startsWith(`${at}.`) ? path.slice(at.length + 1) : path,
    message,
  }));
  return new BadFrameError(
    "invalid_request",
    `the approve frame is invalid: ${named.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    frame.id,
    named,
  );
}

/** An approve frame with both shapes: a 400 naming the fields beside `approvals`. */
function approveShapesError(beside: readonly string[], id: CommandId): BadFrameError {
  const message =
    'an approve frame is one decision {"callId","approved",...} or {"approvals":[...]}, not both; put every decision in "approvals"';
  return new BadFrameError(
    "invalid_request",
    `the approve frame is invalid: ${beside.join(", ")}: ${message}`,
    id,
    beside.map((path) => ({ path, message })),
  );
}

/**
 * The events frame for `events` (consecutive) after `after`, cut after the event that brings its
 * events' text to `maxChars` (at least one event, so a window is never smaller than a frame's
 * need): its text and the seq of its last event (`after` when it has none). `tail` decides
 * `upToDate`, and a frame that reaches the tail of a closed ledger says `streamClosed` (no event
 * will follow). The text is what `JSON.stringify` gives for the same object.
 */
export function eventsFrame(
  events: readonly LedgerEvent[],
  tail: number,
  closed = false,
  after = 0,
  maxChars = Number.POSITIVE_INFINITY,
): { readonly text: string; readonly last: number } {
  const pieces = takeUntilBudget(
    events,
    (event) => JSON.stringify(toWire(event)),
    (piece) => piece.length,
    maxChars,
  );
  const last = events[pieces.length - 1]?.seq ?? after;
  const upToDate = last >= tail;
  const end = upToDate && closed ? ',"streamClosed":true' : "";
  const text = `{"type":"events","events":[${pieces.join(",")}],"nextOffset":"${encodeOffset(last)}","upToDate":${upToDate}${end}}`;
  return { text, last };
}

/**
 * The seq an ack's `offset` names: a ledger offset (not `-1` or `now`) no further than what the
 * socket was sent (`sent`, a seq). Throws BadFrameError `invalid_ack` under the frame's id.
 */
export function ackedSeq(offset: string, sent: number, id: CommandId): number {
  try {
    if (offset === START_OFFSET || offset === "now") throw new Error("not a ledger offset");
    return decodeOffset(offset, sent);
  } catch {
    throw new BadFrameError(
      "invalid_ack",
      `ack offset ${JSON.stringify(offset.slice(0, 40))} is not an offset this socket was sent (it was sent up to ${encodeOffset(sent)}); acknowledge the nextOffset of an events frame you processed`,
      id,
    );
  }
}

/** The first frame of every socket: how many unacknowledged bytes it may be sent. */
export function flowFrame(windowBytes: number): string {
  return JSON.stringify({ type: "flow", windowBytes });
}

/**
 * The last frame before a close the server makes: its code and reason (the close's own, RFC
 * 6455 section 7.4), which the client acts on at once rather than at the close event.
 */
export function closingFrame(code: number, reason: string): string {
  return JSON.stringify({ type: "closing", code, reason });
}

/** What a frame counts against the window: the UTF-8 length of its text, as the runtime sends it. */
export function frameBytes(text: string): number {
  return utf8Length(text);
}

/** A command's success: `status` is the HTTP status the same command answers with. */
export function resultFrame(id: CommandId, result: unknown, status = 200): string {
  return JSON.stringify({ type: "result", id, ok: true, status, result: result ?? null });
}

/** The error of `renderError` (the HTTP body's `error`), plus its status. */
function wireError({ status, body }: RenderedError) {
  return { ...body.error, status };
}

export function failedFrame(id: CommandId, error: RenderedError): string {
  return JSON.stringify({ type: "result", id, ok: false, error: wireError(error) });
}

export function fatalFrame(error: RenderedError): string {
  return JSON.stringify({ type: "error", error: wireError(error) });
}

/**
 * The frame for a Response a hook answered with: a 2xx is a result (its JSON body, or
 * its text), anything else a refusal with the body's `{"error":{code,message}}`.
 */
export async function responseFrame(id: CommandId, response: Response): Promise<string> {
  const text = await response.text();
  let body: unknown = text === "" ? null : text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  if (response.ok) return resultFrame(id, body, response.status);
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : "refused";
  const message =
    typeof error?.message === "string"
      ? error.message
      : `a server hook refused the command with status ${response.status}`;
  return failedFrame(id, {
    status: response.status,
    headers: undefined,
    body: { error: { code, message } },
  });
}
