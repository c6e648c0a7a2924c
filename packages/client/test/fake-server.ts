/**
 * An in-process fake of the durable-agents HTTP API: the wire contract the
 * client codes against, nothing of the real server's internals. Listens on
 * 127.0.0.1 only. Runs are scripted: each start appends a fixed sequence of
 * events on timers, so tests see them arrive live.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

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

const TERMINAL = new Set(["run.completed", "run.failed", "run.interrupted", "run.aborted"]);

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const agents = new Set(options.agents ?? ["assistant"]);
  const script = options.script ?? calculatorScript;
  const pace = options.paceMs ?? 5;
  const sessions = new Map<string, SessionState>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<import("node:net").Socket>();
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
  http.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

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
      case "POST runs": {
        const message = (body as { input?: { message?: unknown } } | undefined)?.input?.message;
        if (typeof message !== "string") {
          return sendError(res, 400, "invalid_input", "body.input.message must be a string");
        }
        if (s.status === "running") {
          return sendError(
            res,
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
        return sendJson(res, 202, { runId, session, agent, status: "running", offset });
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
      case "POST interrupt":
      case "POST abort": {
        if (s.status !== "running" || s.runId === null) {
          return sendError(res, 409, "no_active_run", `session ${session} has no running run`);
        }
        const kind = route === "POST abort" ? "run.aborted" : "run.interrupted";
        const reason = (body as { reason?: string } | undefined)?.reason ?? "requested";
        append(agent, session, s.runId, kind, { reason });
        return sendJson(res, 202, { runId: s.runId, status: s.status });
      }
      case "POST resume": {
        if (s.runId === null || !["waiting", "interrupted"].includes(s.status)) {
          return sendError(
            res,
            409,
            "not_resumable",
            `session ${session} has no paused run to resume`,
          );
        }
        s.status = "running";
        append(agent, session, s.runId, "run.completed", { output: "resumed", request: body });
        return sendJson(res, 202, { runId: s.runId, status: "running" });
      }
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

/** Ends the TCP connection after flushing, mid-body: the client sees a broken chunked stream. */
function cut(res: ServerResponse): void {
  res.socket?.end();
}

/** A JSON array spread over several `data:` lines, one event per line. */
function formatArray(events: FakeEvent[]): string {
  const lines = ["data: ["];
  events.forEach((e, i) => {
    lines.push(`data: ${JSON.stringify(e)}${i < events.length - 1 ? "," : ""}`);
  });
  lines.push("data: ]");
  return lines.join("\n");
}

function projectMessages(ledger: FakeEvent[]) {
  const messages: { id: string; role: string; parts: { type: string; text: string }[] }[] = [];
  for (const e of ledger) {
    if (e.kind === "run.started") {
      const input = e.data.input as { message: string };
      messages.push({
        id: `m${e.seq}`,
        role: "user",
        parts: [{ type: "text", text: input.message }],
      });
    } else if (
      e.kind === "model.completed" &&
      typeof e.data.text === "string" &&
      e.data.text !== ""
    ) {
      messages.push({
        id: `m${e.seq}`,
        role: "assistant",
        parts: [{ type: "text", text: e.data.text }],
      });
    }
  }
  return messages;
}

const INVALID = Symbol("invalid");

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): void {
  sendJson(res, status, {
    error: details === undefined ? { code, message } : { code, message, details },
  });
}
