/**
 * `session.connect()`: one live WebSocket for a session, carrying the ledger
 * in and the commands out. Events are read in the background from the start,
 * so commands work before (or without) iterating.
 */
import type { StreamPosition } from "./event-stream.ts";
import type { HttpContext } from "./http.ts";
import type { ReaderState } from "./reader-kit.ts";
import type { CallOptions } from "./session.ts";
import { type SocketOptions, SocketSession } from "./socket-session.ts";
import {
  type LedgerEvent,
  type ResumeRequest,
  type RunControlResponse,
  type SessionStatus,
  type StartFields,
  startBody,
} from "./types.ts";

export interface LiveSession extends AsyncIterable<LedgerEvent> {
  readonly position: Readonly<StreamPosition>;
  /** Starts a run over the socket. Rejects with `run_active` (409) if one is running. */
  start(
    message: string,
    options?: CallOptions & StartFields,
  ): Promise<{ runId: string; offset: string; status: SessionStatus }>;
  interrupt(options?: CallOptions & { reason?: string }): Promise<RunControlResponse>;
  abort(options?: CallOptions & { reason?: string }): Promise<RunControlResponse>;
  resume(request: ResumeRequest, options?: CallOptions): Promise<RunControlResponse>;
  approve(
    callId: string,
    approved: boolean,
    options?: CallOptions & { args?: unknown },
  ): Promise<RunControlResponse>;
  /** Closes the socket; iteration ends without error. */
  close(): void;
}

export function openLiveSession(
  ctx: HttpContext,
  sessionPath: string,
  options: SocketOptions = {},
): LiveSession {
  const closer = new AbortController();
  const signal =
    options.signal === undefined ? closer.signal : AbortSignal.any([options.signal, closer.signal]);
  const position: ReaderState = {
    offset: options.offset ?? "-1",
    upToDate: false,
    closed: false,
    delivered: undefined,
  };
  const socket = new SocketSession(ctx, `${sessionPath}/ws`, position, { ...options, signal });

  const queue: LedgerEvent[] = [];
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  void (async () => {
    try {
      for await (const event of socket.events()) {
        queue.push(event);
        notify();
      }
    } catch (error) {
      // close() is a normal end, not a failure.
      if (!closer.signal.aborted) failure = error;
    } finally {
      done = true;
      notify();
    }
  })();

  const send = (type: string, fields: Record<string, unknown>, call: CallOptions = {}) =>
    socket.command(type, fields, call.signal) as Promise<never>;

  return {
    get position() {
      const { offset, upToDate, closed } = position;
      return { offset, upToDate, closed };
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const event = queue.shift();
        if (event !== undefined) {
          yield event;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (done) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    start: (message, call) => send("start", startBody(message, call), call),
    interrupt: (call = {}) => send("interrupt", reason(call.reason), call),
    abort: (call = {}) => send("abort", reason(call.reason), call),
    resume: (request, call) => send("resume", { ...request }, call),
    // Approvals go as a resume, the same body as POST .../resume.
    approve: (callId, approved, call = {}) =>
      send(
        "resume",
        {
          mode: "continue",
          approvals: [
            call.args === undefined ? { callId, approved } : { callId, approved, args: call.args },
          ],
        },
        call,
      ),
    close: () => closer.abort(),
  };
}

function reason(value: string | undefined): Record<string, unknown> {
  return value === undefined ? {} : { reason: value };
}
