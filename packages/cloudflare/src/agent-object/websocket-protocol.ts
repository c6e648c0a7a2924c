import {
  assertJsonDepth,
  BadRequestError,
  type CommandName,
  encodeOffset,
  isCommandName,
  type LedgerEvent,
  LIMITS,
  type RenderedError,
  SESSION_COMMANDS,
  toWire,
} from "@durable-agents/core";

/**
 * The session WebSocket protocol (docs/delivery.md). Pure: parsing client
 * frames and building server frames, so it is tested without a socket.
 *
 * Server → client:
 * - `{"type":"events","events":[...],"nextOffset","upToDate","streamClosed"?}` ledger events
 *   after the socket's offset, exactly once and in order; `streamClosed` at the end of a
 *   closed session's ledger (a socket that subscribes there is then closed, 1000);
 * - `{"type":"result","id","ok":true,"status","result"}` or `{"type":"result","id","ok":false,"error"}`
 *   answers one command; a bad frame is answered the same way and changes nothing;
 * - `{"type":"error","error"}` is fatal for the subscription, and the socket closes after it.
 * Client → server: `{"type":<command>, "id"?, ...input}` for every session command
 * (`start`, `interrupt`, `abort`, `resume`, `retry`, `close`, `fork`, `state.set`,
 * `schedule.create`, `schedule.cancel`, `usage.record`; the input is the command's HTTP
 * body), `{"type":"approve",...}` (a resume with decisions), and `{"type":"ping"}`,
 * answered `{"type":"pong"}` by the runtime without waking the object.
 */
export const WS_PING = '{"type":"ping"}';
export const WS_PONG = '{"type":"pong"}';
export const WS_MAX_FRAME_BYTES = LIMITS.maxBodyBytes;

/** Frame types besides the command names: `approve` (a resume with decisions) and `ping`. */
export const WS_ALIASES = ["approve", "ping"] as const;

/** What one client frame asks for: a session command with its raw input, or a ping. */
export type WsFrame =
  | {
      readonly type: "command";
      readonly id: CommandId;
      readonly name: CommandName;
      readonly input: unknown;
    }
  | { readonly type: "ping"; readonly id: CommandId };

export type CommandId = string | number | null;

/** A frame that cannot be a command; answered with `ok:false` under the frame's id if it had one. */
export class BadFrameError extends BadRequestError {
  override name = "BadFrameError";
  readonly id: CommandId;
  constructor(code: string, message: string, id: CommandId = null) {
    super(code, message);
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
  // {"type":"approve","callId","approved",...} or {"type":"approve","approvals":[...]}
  if (type === "approve")
    return {
      type: "command",
      id: cid,
      name: "resume",
      input: { approvals: Array.isArray(input.approvals) ? input.approvals : [input] },
    };
  if (!isCommandName(type))
    throw new BadFrameError(
      "unknown_command",
      `unknown command ${JSON.stringify(String(type ?? "(missing)").slice(0, 40))}; use one of: ${[...Object.keys(SESSION_COMMANDS), ...WS_ALIASES].join(", ")}`,
      cid,
    );
  return { type: "command", id: cid, name: type, input };
}

/**
 * The events frame for `events` (consecutive) after `after`; `tail` decides `upToDate`, and a
 * frame that reaches the tail of a closed ledger says `streamClosed` (no event will follow).
 */
export function eventsFrame(
  events: readonly LedgerEvent[],
  tail: number,
  closed = false,
  after = 0,
): string {
  const wire = events.map(toWire);
  const next = wire.at(-1)?.seq ?? after;
  const upToDate = next >= tail;
  return JSON.stringify({
    type: "events",
    events: wire,
    nextOffset: encodeOffset(next),
    upToDate,
    ...(upToDate && closed ? { streamClosed: true } : {}),
  });
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
