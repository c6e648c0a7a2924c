import {
  BadRequestError,
  DurableAgentsError,
  type LedgerEvent,
  LIMITS,
  toWire,
  UserError,
} from "@durable-agents/core";

/**
 * The session WebSocket protocol (docs/delivery.md). Pure: parsing client
 * frames and building server frames, so it is tested without a socket.
 *
 * Server → client:
 * - `{"type":"events","events":[...],"nextOffset","upToDate"}` ledger events after the
 *   socket's offset, exactly once and in order;
 * - `{"type":"result","id","ok":true,"result"}` or `{"type":"result","id","ok":false,"error"}`
 *   answers one command; a bad frame is answered the same way and changes nothing;
 * - `{"type":"error","error"}` is fatal for the subscription, and the socket closes after it.
 * Client → server: `{"type":"start"|"interrupt"|"abort"|"resume"|"approve", "id"?, ...}`;
 * `{"type":"ping"}` is answered `{"type":"pong"}` by the runtime, without waking the object.
 */
export const WS_PING = '{"type":"ping"}';
export const WS_PONG = '{"type":"pong"}';
export const WS_MAX_FRAME_BYTES = LIMITS.maxBodyBytes;

export const WS_COMMANDS = ["start", "interrupt", "abort", "resume", "approve", "ping"] as const;
export type WsCommandType = (typeof WS_COMMANDS)[number];

export type WsCommand =
  | { type: "start"; id: CommandId; input: { message: string } }
  | { type: "interrupt" | "abort"; id: CommandId; reason?: string }
  | { type: "resume" | "approve"; id: CommandId; body: Record<string, unknown> }
  | { type: "ping"; id: CommandId };

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

/** 501 for a command the runtime does not offer (yet). */
export class CommandUnavailableError extends UserError {
  override name = "CommandUnavailableError";
  constructor(type: string) {
    super(
      "command_unavailable",
      501,
      `the "${type}" command is not available on this server yet; use POST .../${type === "approve" ? "resume" : type} when it exists`,
    );
  }
}

/** Decides what one client frame asks for. Throws BadFrameError; never touches the session. */
export function parseCommand(data: string | ArrayBuffer): WsCommand {
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
  const frame = value as Record<string, unknown>;
  const id = frame.id ?? null;
  if (!(id === null || typeof id === "number" || (typeof id === "string" && id.length <= 128)))
    throw new BadFrameError(
      "invalid_command",
      "a command id must be a number or a string of at most 128 characters",
    );
  const type = frame.type;
  if (typeof type !== "string" || !(WS_COMMANDS as readonly string[]).includes(type))
    throw new BadFrameError(
      "unknown_command",
      `unknown command ${JSON.stringify(String(type ?? "(missing)").slice(0, 40))}; use one of: ${WS_COMMANDS.join(", ")}`,
      id as CommandId,
    );
  const cid = id as CommandId;
  switch (type as WsCommandType) {
    case "start": {
      const input = frame.input as { message?: unknown } | undefined;
      const message = typeof input === "object" && input !== null ? input.message : undefined;
      if (
        typeof message !== "string" ||
        message.length === 0 ||
        message.length > LIMITS.maxMessageChars
      )
        throw new BadFrameError(
          "invalid_command",
          `start needs input.message: a string of 1-${LIMITS.maxMessageChars} characters`,
          cid,
        );
      return { type: "start", id: cid, input: { message } };
    }
    case "interrupt":
    case "abort": {
      const reason = frame.reason;
      if (reason !== undefined && (typeof reason !== "string" || reason.length > 1000))
        throw new BadFrameError(
          "invalid_command",
          `${type}.reason must be a string of at most 1000 characters`,
          cid,
        );
      return reason === undefined
        ? { type: type as "interrupt" | "abort", id: cid }
        : { type: type as "interrupt" | "abort", id: cid, reason };
    }
    case "resume":
    case "approve": {
      const { type: _t, id: _i, ...body } = frame;
      return { type: type as "resume" | "approve", id: cid, body };
    }
    default:
      return { type: "ping", id: cid };
  }
}

/** The events frame for `events` (non-empty, consecutive); `tail` decides `upToDate`. */
export function eventsFrame(events: readonly LedgerEvent[], tail: number): string {
  const wire = events.map(toWire);
  const last = wire.at(-1);
  return JSON.stringify({
    type: "events",
    events: wire,
    nextOffset: last?.offset,
    upToDate: (last?.seq ?? 0) >= tail,
  });
}

export function resultFrame(id: CommandId, result: unknown): string {
  return JSON.stringify({ type: "result", id, ok: true, result: result ?? null });
}

export function errorBody(error: unknown): {
  code: string;
  message: string;
  status: number;
  details?: Record<string, unknown>;
} {
  if (error instanceof DurableAgentsError) {
    const body = { code: error.code, message: error.message, status: error.status };
    return error.details === undefined ? body : { ...body, details: error.details };
  }
  return { code: "internal", message: "internal error; the server log has the cause", status: 500 };
}

export function failedFrame(id: CommandId, error: unknown): string {
  return JSON.stringify({ type: "result", id, ok: false, error: errorBody(error) });
}

export function fatalFrame(error: unknown): string {
  return JSON.stringify({ type: "error", error: errorBody(error) });
}
