/**
 * An in-process fake of the durable-agents HTTP API: the wire contract the
 * client codes against, nothing of the real server's internals. Listens on
 * 127.0.0.1 only. Runs are scripted: each start appends a fixed sequence of
 * events on timers, so tests see them arrive live.
 */

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  cut,
  formatArray,
  INVALID,
  projectMessages,
  readBody,
  readClientFrame,
  sendError,
  sendJson,
  wsFrame,
} from "./fake-wire.ts";

export interface FakeEvent {
  seq: number;
  offset: string;
  runId: string | null;
  kind: string;
  data: Record<string, unknown>;
  ts: number;
}

export type ScriptStep = { kind: string; data: Record<string, unknown> };
export type Script = (message: string) => ScriptStep[];

/** How one SSE connection ends: after `maxEvents` events, cut in the given way. */
export interface SseConnectionPlan {
  maxEvents: number;
  cut: "clean" | "before-control" | "mid-data";
}

export interface FakeServerOptions {
  agents?: string[];
  script?: Script;
  /** Delay between scripted events. */
  paceMs?: number;
  /** Per-connection plan for SSE; default: never cut. */
  ssePlan?: (connection: number) => SseConnectionPlan | undefined;
  /** Events per SSE data event. */
  sseBatch?: number;
  /** Per-connection plan for the WebSocket; default: never cut. */
  wsPlan?: (connection: number) => WsConnectionPlan | undefined;
}

/** How one WebSocket ends: after `maxEvents` events, a close frame (clean) or a dropped socket (abrupt). */
export interface WsConnectionPlan {
  maxEvents: number;
  cut: "clean" | "abrupt";
}

interface SessionState {
  ledger: FakeEvent[];
  status: string;
  runId: string | null;
  closed: boolean;
  waiters: Set<() => void>;
}

export interface FakeServer {
  url: string;
  sseConnections: number;
  wsConnections: number;
  /** Text frames received from WebSocket clients. */
  wsFrames: string[];
  requests: { method: string; path: string; body: unknown }[];
  append(
    agent: string,
    session: string,
    runId: string | null,
    kind: string,
    data: Record<string, unknown>,
  ): FakeEvent;
  closeStream(agent: string, session: string): void;
  ledger(agent: string, session: string): FakeEvent[];
  close(): Promise<void>;
}

export const pad = (seq: number): string => String(seq).padStart(16, "0");

export const calculatorScript: Script = (message) => [
  { kind: "step.started", data: { step: 0 } },
  { kind: "model.delta", data: { step: 0, text: "Let me " } },
  { kind: "model.delta", data: { step: 0, text: "calculate." } },
  {
    kind: "model.completed",
    data: {
      step: 0,
      text: "Let me calculate.",
      toolCalls: [{ callId: "c1", name: "calculator", args: { expression: "2+3" } }],
      finishReason: "tool-calls",
      usage: { inputTokens: message.length, outputTokens: 4 },
    },
  },
  {
    kind: "tool.started",
    data: {
      step: 0,
      callId: "c1",
      name: "calculator",
      args: { expression: "2+3" },
      effect: "pure",
      idempotencyKey: "k1",
    },
  },
  { kind: "tool.completed", data: { callId: "c1", name: "calculator", result: 5 } },
  { kind: "step.completed", data: { step: 0 } },
  { kind: "step.started", data: { step: 1 } },
  { kind: "model.delta", data: { step: 1, text: "2 + 3 " } },
  { kind: "model.delta", data: { step: 1, text: "= 5." } },
  {
    kind: "model.completed",
    data: {
      step: 1,
      text: "2 + 3 = 5.",
      toolCalls: [],
      finishReason: "stop",
      usage: { inputTokens: 9, outputTokens: 5 },
    },
  },
  { kind: "step.completed", data: { step: 1 } },
  { kind: "run.completed", data: { output: "2 + 3 = 5." } },
];

type CommandName = "runs" | "interrupt" | "abort" | "resume";

const TERMINAL = new Set(["run.completed", "run.failed", "run.interrupted", "run.aborted"]);

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const agents = new Set(options.agents ?? ["assistant"]);
  const script = options.script ?? calculatorScript;
  const pace = options.paceMs ?? 5;
  const sessions = new Map<string, SessionState>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let runCounter = 0;

  const state = (agent: string, session: string): SessionState => {
    const key = `${agent}/${session}`;
    let s = sessions.get(key);
    if (s === undefined) {
      s = { ledger: [], status: "idle", runId: null, closed: false, waiters: new Set() };
      sessions.set(key, s);
    }
    return s;
  };

  const append = (
    agent: string,
    session: string,
    runId: string | null,
    kind: string,
    data: Record<string, unknown>,
  ) => {
    const s = state(agent, session);
    const seq = s.ledger.length + 1;
    const event: FakeEvent = { seq, offset: pad(seq), runId, kind, data, ts: Date.now() };
    s.ledger.push(event);
    if (TERMINAL.has(kind)) s.status = kind.slice(4);
    if (kind === "run.waiting") s.status = "waiting";
    for (const wake of s.waiters) wake();
    return event;
  };

  const tail = (s: SessionState) => pad(s.ledger.length);

  const server: FakeServer = {
    url: "",
    sseConnections: 0,
    wsConnections: 0,
    wsFrames: [],
    requests: [],
    append,
    closeStream(agent, session) {
      const s = state(agent, session);
      s.closed = true;
      for (const wake of s.waiters) wake();
    },
    ledger: (agent, session) => state(agent, session).ledger,
    close: () =>
      new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const socket of sockets) socket.destroy();
        http.close(() => resolve());
      }),
  };

  const runScript = (agent: string, session: string, runId: string, message: string) => {
    const steps = script(message);
    let i = 0;
    const next = () => {
      const s = state(agent, session);
      const step = steps[i++];
      if (step === undefined || s.runId !== runId || s.status !== "running") return;
      append(agent, session, runId, step.kind, step.data);
      if (s.status === "running") schedule();
    };
    const schedule = () => {
      const t = setTimeout(() => {
        timers.delete(t);
        next();
      }, pace);
      timers.add(t);
    };
    schedule();
  };

  const http: Server = createServer(async (req, res) => {
    try {
      await handle(req, res);
    } catch (error) {
      sendError(res, 500, "internal", String(error));
    }
  });
  http.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const match = /^\/agents\/([^/]+)\/([^/]+)\/ws$/.exec(url.pathname);
    const key = req.headers["sec-websocket-key"];
    if (
      match === null ||
      typeof key !== "string" ||
      !agents.has(decodeURIComponent(match[1] as string))
    ) {
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    const s = state(decodeURIComponent(match[1] as string), decodeURIComponent(match[2] as string));
    const from = resolveOffset(s, url.searchParams.get("offset"));
    const accept = createHash("sha1")
      .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`,
    );
    const agentName = decodeURIComponent(match[1] as string);
    const sessionName = decodeURIComponent(match[2] as string);
    let pending = Buffer.alloc(0);
    socket.on("data", (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      for (;;) {
        const frame = readClientFrame(pending);
        if (frame === undefined) return;
        pending = pending.subarray(frame.size);
        if (frame.opcode === 8) return void socket.end(wsFrame(0x8, Buffer.from([0x03, 0xe8])));
        if (frame.opcode !== 1) continue;
        const text = frame.payload.toString("utf8");
        server.wsFrames.push(text);
        const msg = JSON.parse(text) as { type: string; id?: unknown; [key: string]: unknown };
        if (msg.type === "ping") {
          socket.write(wsFrame(0x1, Buffer.from('{"type":"pong"}')));
          continue;
        }
        const { type, id, ...body } = msg;
        const action = type === "start" ? "runs" : (type as CommandName);
        const reply = command(agentName, sessionName, action, body);
        const ok = reply.status < 300;
        const error = ok
          ? undefined
          : { ...(reply.body as { error: object }).error, status: reply.status };
        const result = ok
          ? { type: "result", id, ok, result: reply.body }
          : { type: "result", id, ok, error };
        socket.write(wsFrame(0x1, Buffer.from(JSON.stringify(result))));
      }
    });
    if (from === undefined) {
      socket.write(
        wsFrame(
          0x1,
          Buffer.from(
            JSON.stringify({
              type: "error",
              error: { code: "invalid_offset", message: "bad offset", status: 400 },
            }),
          ),
        ),
      );
      socket.end(wsFrame(0x8, Buffer.from([0x03, 0xe8])));
      return;
    }
    void streamWs(s, from, socket);
  });

  async function streamWs(s: SessionState, from: number, socket: Socket): Promise<void> {
    const plan = options.wsPlan?.(server.wsConnections);
    server.wsConnections++;
    let position = from;
    let sent = 0;
    while (!socket.destroyed && socket.writable) {
      const limit = plan === undefined ? 50 : plan.maxEvents - sent;
      const events = s.ledger.slice(position, position + limit);
      if (events.length > 0 || position === from) {
        position += events.length;
        sent += events.length;
        const frame: Record<string, unknown> = {
          type: "events",
          events,
          nextOffset: pad(position),
        };
        if (position === s.ledger.length) frame.upToDate = true;
        if (position === s.ledger.length && s.closed) frame.streamClosed = true;
        socket.write(wsFrame(0x1, Buffer.from(JSON.stringify(frame))));
        if (frame.streamClosed === true)
          return void socket.end(wsFrame(0x8, Buffer.from([0x03, 0xe8])));
      }
      if (plan !== undefined && sent >= plan.maxEvents) {
        if (plan.cut === "clean") socket.end(wsFrame(0x8, Buffer.from([0x03, 0xe8])));
        else socket.destroy();
        return;
      }
      if (position === s.ledger.length) await waitFor(s, 1_000);
    }
  }

  http.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  type Reply = { status: number; body: unknown };
  const fail = (
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
  ): Reply => ({
    status,
    body: { error: details === undefined ? { code, message } : { code, message, details } },
  });

  /** The commands, shared by HTTP routes and WebSocket frames. */
  function command(agent: string, session: string, action: CommandName, body: unknown): Reply {
    const s = state(agent, session);
    switch (action) {
      case "runs": {
        const message = (body as { input?: { message?: unknown } } | undefined)?.input?.message;
        if (typeof message !== "string") {
          return fail(400, "invalid_input", "body.input.message must be a string");
        }
        if (s.status === "running") {
          return fail(
            409,
            "run_active",
            `session ${session} already has run ${s.runId} running; interrupt it or wait for it`,
            { runId: s.runId },
          );
        }
        const offset = tail(s);
        const runId = `r${++runCounter}`;
        s.runId = runId;
        s.status = "running";
        append(agent, session, runId, "run.started", { agent, input: { message } });
        runScript(agent, session, runId, message);
        return { status: 202, body: { runId, session, agent, status: "running", offset } };
      }
      case "interrupt":
      case "abort": {
        if (s.status !== "running" || s.runId === null) {
          return fail(409, "no_active_run", `session ${session} has no running run`);
        }
        const kind = action === "abort" ? "run.aborted" : "run.interrupted";
        const reason = (body as { reason?: string } | undefined)?.reason ?? "requested";
        append(agent, session, s.runId, kind, { reason });
        return { status: 202, body: { runId: s.runId, status: s.status } };
      }
      case "resume": {
        if (s.runId === null || !["waiting", "interrupted"].includes(s.status)) {
          return fail(409, "not_resumable", `session ${session} has no paused run to resume`);
        }
        s.status = "running";
        append(agent, session, s.runId, "run.completed", { output: "resumed", request: body });
        return { status: 202, body: { runId: s.runId, status: "running" } };
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const body = req.method === "POST" ? await readBody(req) : undefined;
    if (body === INVALID)
      return sendError(res, 400, "invalid_json", "request body is not valid JSON");
    server.requests.push({ method: req.method ?? "", path: url.pathname + url.search, body });
    const match = /^\/agents\/([^/]+)\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
    if (match === null) return sendError(res, 404, "not_found", `no route for ${url.pathname}`);
    const agent = decodeURIComponent(match[1] as string);
    const session = decodeURIComponent(match[2] as string);
    const route = `${req.method} ${match[3]}`;
    if (!agents.has(agent)) {
      return sendError(
        res,
        404,
        "unknown_agent",
        `no agent named "${agent}"; known agents: ${[...agents].join(", ")}`,
      );
    }
    const s = state(agent, session);
    switch (route) {
      case "POST runs":
      case "POST interrupt":
      case "POST abort":
      case "POST resume": {
        const reply = command(agent, session, match[3] as CommandName, body);
        return sendJson(res, reply.status, reply.body);
      }
      case "GET status":
        return sendJson(res, 200, {
          agent,
          session,
          status: s.status,
          runId: s.runId,
          offset: tail(s),
        });
      case "GET messages":
        return sendJson(res, 200, { messages: projectMessages(s.ledger), nextCursor: null });
      case "POST retry":
        return sendJson(res, 202, { runId: s.runId, status: s.status });
      case "POST fork": {
        const target = (body as { session?: string } | undefined)?.session ?? `${session}-fork`;
        return sendJson(res, 200, { session: target });
      }
      case "GET events":
        return readEvents(url, s, res);
      default:
        return sendError(res, 404, "not_found", `no route for ${req.method} ${url.pathname}`);
    }
  }

  function resolveOffset(s: SessionState, raw: string | null): number | undefined {
    if (raw === null || raw === "-1") return 0;
    if (raw === "now") return s.ledger.length;
    if (!/^\d{16}$/.test(raw)) return undefined;
    const n = Number(raw);
    return n <= s.ledger.length ? n : undefined;
  }

  async function readEvents(url: URL, s: SessionState, res: ServerResponse): Promise<void> {
    const from = resolveOffset(s, url.searchParams.get("offset"));
    if (from === undefined) {
      return sendError(
        res,
        400,
        "invalid_offset",
        `offset "${url.searchParams.get("offset")}" is not a valid offset for this stream`,
      );
    }
    const live = url.searchParams.get("live");
    if (live === "sse") return streamSse(s, from, res);
    if (live === "long-poll" && from === s.ledger.length && !s.closed) {
      await waitFor(s, 200);
    }
    const events = s.ledger.slice(from);
    const next = from + events.length;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "stream-next-offset": pad(next),
      "stream-cursor": "c1",
    };
    if (next === s.ledger.length) headers["stream-up-to-date"] = "true";
    if (next === s.ledger.length && s.closed) headers["stream-closed"] = "true";
    if (live === "long-poll" && events.length === 0) {
      res.writeHead(204, headers).end();
      return;
    }
    res.writeHead(200, headers).end(JSON.stringify(events));
  }

  async function streamSse(s: SessionState, from: number, res: ServerResponse): Promise<void> {
    const plan = options.ssePlan?.(server.sseConnections);
    server.sseConnections++;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(": hello\n\n");
    let position = from;
    let sent = 0;
    const batch = options.sseBatch ?? 50;
    for (;;) {
      if (res.destroyed) return;
      const available = s.ledger.slice(position, position + batch);
      if (available.length > 0) {
        const limit =
          plan === undefined ? available.length : Math.min(available.length, plan.maxEvents - sent);
        const events = available.slice(0, limit);
        res.write(`event: data\n${formatArray(events)}\n\n`);
        position += events.length;
        sent += events.length;
        if (plan !== undefined && sent >= plan.maxEvents && plan.cut === "before-control") {
          return cut(res);
        }
        if (plan !== undefined && sent >= plan.maxEvents && plan.cut === "mid-data") {
          // Half of the next data event (if any), then the cut: never a control.
          const rest = s.ledger.slice(position, position + 1);
          const partial = `event: data\n${formatArray(rest)}\n\n`;
          if (rest.length > 0) res.write(partial.slice(0, partial.length - 5));
          return cut(res);
        }
      }
      const upToDate = position === s.ledger.length;
      const closed = upToDate && s.closed;
      const control: Record<string, unknown> = { streamNextOffset: pad(position) };
      if (!closed) control.streamCursor = "c1";
      if (upToDate && !closed) control.upToDate = true;
      if (closed) control.streamClosed = true;
      // Control split over the wire, to exercise chunk boundaries.
      const text = `event: control\r\ndata: ${JSON.stringify(control)}\r\n\r\n`;
      res.write(text.slice(0, 7));
      res.write(text.slice(7));
      if (closed) return void res.end();
      if (plan !== undefined && sent >= plan.maxEvents) return void res.end();
      if (position === s.ledger.length) {
        const woke = await waitFor(s, 1_000);
        if (!woke && position === s.ledger.length && !s.closed) res.write(": keep-alive\n\n");
      }
    }
  }

  function waitFor(s: SessionState, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        timers.delete(t);
        s.waiters.delete(wake);
        resolve(true);
      };
      const t = setTimeout(() => {
        timers.delete(t);
        s.waiters.delete(wake);
        resolve(false);
      }, ms);
      timers.add(t);
      s.waiters.add(wake);
    });
  }

  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return server;
}
