/**
 * The real core session handler (`handleSessionRequest`, the code a session's
 * Durable Object serves) behind a small Node HTTP adapter on 127.0.0.1: what
 * the client and CLI tests run against. One `SessionRuntime` per session on
 * in-process SQLite with the real clock; the object's alarm is a timer.
 *
 * The adapter does only what the Worker and the network do around the
 * handler: it routes `/agents/:agent/:session/:action` (and useChat's `/chat/...` URLs onto
 * the session's `chat`, by the Worker's own `chatRoute`), forwards forks to the
 * target session, records requests, and can break SSE responses (`ssePlan`)
 * the ways a network does. WebSocket tests run against the real server in
 * workerd instead (packages/cloudflare/test/client-ws.test.ts): the socket
 * protocol lives in the Cloudflare package.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  type AgentDefinition,
  DEFAULT_LIVE_READ,
  errorResponse,
  handleSessionRequest,
  NotFoundError,
  type SessionPeers,
  SessionRuntime,
  systemClock,
  TRUSTED_CALLER,
  type TriggerDefinition,
} from "@durable-agents/core";
import { cronSchedules } from "@durable-agents/core/cron";
import { NodeSqlPort } from "@durable-agents/core/testing";
import { chatRoute } from "../../cloudflare/src/agent-object/chat-path.ts";

/** How one SSE response ends: after `dataFrames` data frames, cut in the given way. */
export interface SseCut {
  readonly dataFrames: number;
  /** `clean`: the response ends after the next control frame; the others drop the connection. */
  readonly cut: "clean" | "before-control" | "mid-data";
}

export interface RealServerOptions {
  readonly agents: readonly AgentDefinition[];
  /** The application's schedule kinds (createAgentServer({ triggers })). */
  readonly triggers?: readonly TriggerDefinition[];
  /** Per-connection plan for SSE responses (connection 0, 1, ...); default: never cut. */
  readonly ssePlan?: (connection: number) => SseCut | undefined;
}

export interface RealSession {
  readonly runtime: SessionRuntime;
  readonly sql: NodeSqlPort;
}

export interface RealServer {
  readonly url: string;
  readonly sseConnections: number;
  readonly requests: { method: string; path: string; body: unknown }[];
  /** The session's runtime, created on first use (as its object would be). */
  session(agent: string, session: string): RealSession;
  close(): Promise<void>;
}

export async function startRealServer(options: RealServerOptions): Promise<RealServer> {
  const agents = new Map(options.agents.map((a) => [a.name, a]));
  const sessions = new Map<string, RealSession>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let runs = 0;
  let closing = false;
  // A 5xx from the handler is a server fault: the test output shows its cause.
  const fault = (cause: unknown) => console.error("real-server: internal error", cause);

  const open = (agentName: string, id: string): RealSession => {
    const key = `${agentName}/${id}`;
    const existing = sessions.get(key);
    if (existing) return existing;
    const agent = agents.get(agentName);
    if (agent === undefined) {
      throw new NotFoundError(
        "unknown_agent",
        `no agent named "${agentName.slice(0, 64)}"; this server has: ${[...agents.keys()].join(", ")}`,
      );
    }
    let alarm: NodeJS.Timeout | undefined;
    const sql = new NodeSqlPort();
    const runtime: SessionRuntime = new SessionRuntime({
      sql,
      clock: systemClock,
      agent,
      sessionId: id,
      newId: () => `r${++runs}`,
      ...(options.triggers === undefined
        ? {}
        : { appTriggers: options.triggers, cron: cronSchedules }),
      wake: (at) => {
        if (alarm) clearTimeout(alarm);
        timers.delete(alarm as NodeJS.Timeout);
        if (at === null || closing) return;
        alarm = setTimeout(
          () => {
            timers.delete(alarm as NodeJS.Timeout);
            if (!closing) void runtime.alarm();
          },
          Math.max(0, at - Date.now()),
        );
        timers.add(alarm);
      },
    });
    const session = { runtime, sql };
    sessions.set(key, session);
    return session;
  };

  const peers = (agent: string): SessionPeers => ({
    async importFork(target, events, reason) {
      open(agent, target).runtime.importFork(events, reason);
    },
  });

  let sseConnections = 0;
  const requests: RealServer["requests"] = [];

  async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    requests.push({ method: req.method ?? "", path: url.pathname + url.search, body: parse(body) });
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    const request = new Request(url, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: body.length > 0 && req.method !== "GET" && req.method !== "HEAD" ? body : undefined,
      signal: gone.signal,
    });
    let response: Response;
    try {
      const [routed, [agent, id, action]] = await sessionRoute(request);
      const { runtime, sql } = open(agent, id);
      response = await handleSessionRequest(routed, action, {
        runtime,
        sql,
        clock: systemClock,
        live: { ...DEFAULT_LIVE_READ, longPollMs: 500, sseMaxMs: 5_000, keepAliveMs: 1_000 },
        peers: peers(agent),
        // Auth is the Worker's (and its tests'); the client tests call as a trusted caller.
        caller: TRUSTED_CALLER,
      });
    } catch (error) {
      response = errorResponse(error, fault);
    }
    const sse = response.headers.get("content-type")?.includes("event-stream") === true;
    const plan = sse ? options.ssePlan?.(sseConnections) : undefined;
    if (sse) sseConnections++;
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    res.writeHead(response.status, headers);
    if (response.body === null) return void res.end();
    const reader = response.body.getReader();
    res.on("close", () => void reader.cancel().catch(() => undefined));
    const cutter = plan === undefined ? undefined : new SseCutter(plan);
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done || value === undefined || res.destroyed) break;
      if (cutter === undefined) {
        res.write(value);
        continue;
      }
      const { text, end } = cutter.push(value);
      if (text !== "") res.write(text);
      if (end === "clean") break;
      if (end === "drop") return void res.socket?.end();
    }
    res.end();
  }

  const http = createServer((req, res) => {
    respond(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  http.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));

  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    get sseConnections() {
      return sseConnections;
    },
    requests,
    session: open,
    close: () =>
      new Promise((resolve) => {
        closing = true;
        for (const t of timers) clearTimeout(t);
        for (const socket of sockets) socket.destroy();
        http.close(() => resolve());
      }),
  };
}

/**
 * The session route of a request: `/agents/:agent/:session/:action`, after useChat's URLs
 * (`POST /chat/:agent`, `GET /chat/:agent/:id/stream`) are mapped onto the session's `chat` by
 * the Worker's own `chatRoute` (a bad chat request is its 400).
 */
async function sessionRoute(request: Request): Promise<[Request, [string, string, string]]> {
  const routed = (await chatRoute(request)) ?? request;
  const path = new URL(routed.url).pathname;
  const session = /^\/agents\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (session === null) throw new NotFoundError("not_found", `no route for ${path}`);
  return [routed, session.slice(1).map(decodeURIComponent) as [string, string, string]];
}

function parse(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return body.toString("utf8");
  }
}

/** Splits an SSE body into frames and ends it the way an `SseCut` says. */
class SseCutter {
  readonly #plan: SseCut;
  readonly #decoder = new TextDecoder();
  #buffer = "";
  #dataFrames = 0;

  constructor(plan: SseCut) {
    this.#plan = plan;
  }

  push(chunk: Uint8Array): { text: string; end?: "clean" | "drop" } {
    this.#buffer += this.#decoder.decode(chunk, { stream: true });
    let text = "";
    for (;;) {
      const at = this.#buffer.indexOf("\n\n");
      if (at === -1) return { text };
      const frame = this.#buffer.slice(0, at + 2);
      this.#buffer = this.#buffer.slice(at + 2);
      const isData = /^event: data$/m.test(frame);
      const reached = this.#dataFrames >= this.#plan.dataFrames;
      if (reached && this.#plan.cut === "mid-data" && (isData || /^event: control$/m.test(frame)))
        return { text: text + (isData ? frame.slice(0, frame.length >> 1) : ""), end: "drop" };
      if (reached && !isData && /^event: control$/m.test(frame)) {
        if (this.#plan.cut === "before-control") return { text, end: "drop" };
        if (this.#plan.cut === "clean") return { text: text + frame, end: "clean" };
      }
      text += frame;
      if (isData) this.#dataFrames++;
    }
  }
}
