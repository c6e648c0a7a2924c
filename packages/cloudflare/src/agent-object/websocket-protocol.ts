import {
  BadRequestError,
  DurableAgentsError,
  type LedgerEvent,
  LIMITS,
  toWire,
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
  | { type: "resume" | "approve"; id: CommandId; request: ResumeCommand }
  | { type: "ping"; id: CommandId };

export type CommandId = string | number | null;

/** What SessionRuntime.resume takes; `approve` is a resume with decisions. */
export interface ResumeCommand {
  mode?: "continue" | "with_message" | "from_checkpoint";
  message?: string;
  checkpoint?: string;
  approvals?: Decision[];
}

export interface Decision {
  callId: string;
  approved: boolean;
  args?: unknown;
  result?: unknown;
  reason?: string;
}

/** A frame that cannot be a command; answered with `ok:false` under the frame's id if it had one. */
export class BadFrameError extends BadRequestError {
  override name = "BadFrameError";
  readonly id: CommandId;
  constructor(code: string, message: string, id: CommandId = null) {
    super(code, message);
    this.id = id;
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
      return { type: "resume", id: cid, request: resumeCommand(frame, cid) };
    case "approve": {
      // {"type":"approve","callId","approved",...} or {"type":"approve","approvals":[...]}
      const approvals = Array.isArray(frame.approvals) ? frame.approvals : [frame];
      return { type: "approve", id: cid, request: { approvals: decisions(approvals, cid) } };
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

function resumeCommand(frame: Record<string, unknown>, id: CommandId): ResumeCommand {
  const bad = (what: string) => new BadFrameError("invalid_command", `resume.${what}`, id);
  const out: ResumeCommand = {};
  if (frame.mode !== undefined) {
    if (!["continue", "with_message", "from_checkpoint"].includes(frame.mode as string))
      throw bad("mode must be continue, with_message or from_checkpoint");
    out.mode = frame.mode as ResumeCommand["mode"];
  }
  if (frame.message !== undefined) {
    if (
      typeof frame.message !== "string" ||
      frame.message === "" ||
      frame.message.length > LIMITS.maxMessageChars
    )
      throw bad(`message must be a string of 1-${LIMITS.maxMessageChars} characters`);
    out.message = frame.message;
  }
  if (frame.checkpoint !== undefined) {
    if (typeof frame.checkpoint !== "string" || frame.checkpoint.length > 40)
      throw bad("checkpoint must be a checkpoint id (a string of at most 40 characters)");
    out.checkpoint = frame.checkpoint;
  }
  if (frame.approvals !== undefined) {
    if (!Array.isArray(frame.approvals)) throw bad("approvals must be an array of decisions");
    out.approvals = decisions(frame.approvals, id);
  }
  return out;
}

function decisions(values: unknown[], id: CommandId): Decision[] {
  if (values.length > 100)
    throw new BadFrameError("invalid_command", "at most 100 approval decisions per command", id);
  return values.map((value, i) => {
    const d = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    if (
      typeof d.callId !== "string" ||
      d.callId === "" ||
      d.callId.length > 200 ||
      typeof d.approved !== "boolean"
    )
      throw new BadFrameError(
        "invalid_command",
        `decision ${i} needs callId (a string) and approved (true or false)`,
        id,
      );
    if (d.reason !== undefined && (typeof d.reason !== "string" || d.reason.length > 1000))
      throw new BadFrameError(
        "invalid_command",
        `decision ${i}: reason must be a string of at most 1000 characters`,
        id,
      );
    const out: Decision = { callId: d.callId, approved: d.approved };
    if (d.args !== undefined) out.args = d.args;
    if (d.result !== undefined) out.result = d.result;
    if (typeof d.reason === "string") out.reason = d.reason;
    return out;
  });
}
