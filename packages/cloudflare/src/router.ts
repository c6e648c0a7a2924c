import {
  AGENT_NAME_PATTERN,
  agentSub,
  BadRequestError,
  bodyLimit,
  consoleLogger,
  errorResponse,
  type Logger,
  mcpSub,
  NotFoundError,
  type PriceTable,
  readBytes,
  routeScope,
  sessionActions,
} from "@durable-agents/core";
import { CHAT_ROOT, CHAT_ROUTES, chatRoute } from "./agent-object/chat-path.ts";
import { AgentNotFoundError } from "./agent-object/registry.ts";
import { parseSessionPath, sessionObjectName } from "./agent-object/session-path.ts";
import {
  type Authorize,
  type AuthTarget,
  authorizeRequest,
  sessionTarget,
} from "./auth/authorize.ts";
import {
  assertSessionIndex,
  INDEX_PATHS,
  indexOffError,
  type SessionIndex,
} from "./d1/index-port.ts";
import {
  mcpAgents,
  type RoutedServer,
  resolveRouterOptions,
  warnIfRuleNotApplied,
} from "./router-options.ts";
import { routeStreamRequest, STREAM_ROOT } from "./stream-object/route-stream-request.ts";
import type { StreamVars } from "./stream-object/stream-config.ts";

/** Where `/mcp/:agent` is served (with `options.mcp`). */
const MCP_ROOT = "/mcp/";

export interface RouterEnv {
  readonly AGENTS: DurableObjectNamespace;
  readonly STREAMS?: DurableObjectNamespace;
  readonly INDEX_DB?: D1Database;
  readonly AUTH_SECRET?: string;
}

/** Options of the Worker-level routes (`GET /sessions`, `GET /usage`, `/v1/stream/*`, `/mcp/:agent`). */
export interface RouterOptions {
  /**
   * The session server class (createAgentServer's result). Its `authorize`, `index`, `prices`
   * and `logger` are the Worker's too: every door (the session routes, their WebSocket, the
   * index, `/v1/stream/*`, `/mcp/:agent`) applies the one rule declared there, and the index
   * routes read the index its sessions write. The form to use: declare them once, in
   * createAgentServer. Giving routeRequest another `authorize`, `index` or `prices` as well is
   * refused with 500 `conflicting_options` on every request; the same value is accepted
   * (`allowLocalDev()` with equal options is the same value).
   * @example
   * routeRequest(request, env, ctx, { server: AgentSession })
   */
  readonly server?: RoutedServer;
  /**
   * Replaces the default token check at the Worker's own doors: the index (admin token),
   * `/v1/stream/*` (stream token), `/mcp/:agent`, and a session or chat request the Worker
   * cannot forward (behindDoor).
   * @deprecated Give `server` instead: it carries createAgentServer's `authorize`, so the rule
   * is declared once. Without `server`, pass the same one as createAgentServer's.
   */
  readonly authorize?: Authorize;
  readonly logger?: Logger;
  /**
   * Prices for the cost column of `GET /usage`.
   * @deprecated Give `server`: it carries createAgentServer's `prices`.
   */
  readonly prices?: PriceTable;
  /**
   * The cross-session index that `GET /sessions` and `GET /usage` read: the same value as
   * createAgentServer's `index` (`d1Index(...)` from `@durable-agents/cloudflare/d1`), so
   * both use the same bindings. Without it both routes answer 404 `index_off` (after the
   * admin check), whatever D1 bindings the Worker has.
   * @deprecated Give `server`: it carries createAgentServer's `index`.
   */
  readonly index?: SessionIndex;
  /**
   * Serves `/mcp/:agent`: `serve` is `serveAgentMcp` from `@durable-agents/cloudflare/mcp` (a
   * separate entry point: a Worker without it does not bundle the MCP SDK); `agents` the
   * agents served, by default all of `server`'s (needed without `server`). Another name
   * gets 404 `agent_not_found` at the door, before the MCP transport.
   */
  readonly mcp?: {
    readonly serve: (
      request: Request,
      agent: string,
      agents: DurableObjectNamespace,
    ) => Promise<Response>;
    readonly agents?: readonly string[];
  };
}

/**
 * The Worker entry: sends each session route to its session's object, `/v1/stream/*` to the
 * Durable Streams objects, and serves the index and MCP routes, each behind the rule of
 * `options.server` (the one createAgentServer was given; none: signed tokens).
 * @example
 * export default {
 *   fetch: (request, env, ctx) => routeRequest(request, env, ctx, { server: AgentSession }),
 * };
 */
export async function routeRequest(
  request: Request,
  env: RouterEnv,
  _ctx?: ExecutionContext,
  options: RouterOptions = {},
): Promise<Response> {
  const logger = options.logger ?? options.server?.options.logger ?? consoleLogger;
  try {
    const resolved = resolveRouterOptions(options);
    warnIfRuleNotApplied(options, logger);
    const { authorize, index, prices } = resolved;
    const url = new URL(request.url);
    if (url.pathname.startsWith(STREAM_ROOT) && env.STREAMS) {
      return await routeStreamRequest(request, env.STREAMS, env as StreamVars, {
        authorize,
        logger,
      });
    }
    if (INDEX_PATHS.has(url.pathname)) {
      // The admin check first: no token, no hint about the index.
      const bindings = env as unknown as Record<string, unknown>;
      const outcome = await authorizeRequest(
        request,
        bindings,
        { sub: "*", scope: "admin" },
        { authorize, logger },
      );
      if (outcome.type === "respond") return outcome.response;
      if (!index) throw indexOffError(url.pathname, bindings);
      assertSessionIndex(index, "routeRequest");
      return await index.serve(request, bindings, { prices });
    }
    const agent =
      options.mcp && url.pathname.startsWith(MCP_ROOT)
        ? /^[^/]+$/.exec(url.pathname.slice(MCP_ROOT.length))?.[0]
        : undefined;
    if (options.mcp && agent !== undefined && AGENT_NAME_PATTERN.test(agent)) {
      // The door, before the MCP transport: the session routes' check (a 401 carries
      // `www-authenticate`, as MCP's authorization spec asks of HTTP transports). `read`:
      // talking to the agent; its tool's start command checks `write` on the session.
      const outcome = await authorizeRequest(
        request,
        env as unknown as Record<string, unknown>,
        { sub: mcpSub(agent), scope: "read", agent },
        { authorize, logger },
      );
      if (outcome.type === "respond") return outcome.response;
      const served = mcpAgents(options.mcp.agents, resolved);
      if (!served.includes(agent)) throw new AgentNotFoundError(agent, [...served].sort());
      return await options.mcp.serve(request, agent, env.AGENTS);
    }
    const door: Door = {
      request,
      env: env as unknown as Record<string, unknown>,
      authorize,
      logger,
    };
    // useChat's URLs become the session route .../chat of the chat id's session.
    const routed = url.pathname.startsWith(CHAT_ROOT)
      ? await behindDoor(
          door,
          () => chatRoute(request),
          () => agentTarget(url.pathname.slice(CHAT_ROOT.length).split("/")[0], "chat", request),
        )
      : undefined;
    if (routed instanceof Response) return routed;
    const pathname = new URL((routed ?? request).url).pathname;
    // A session path whose agent or session id is not one (a chat body's id, too): behind the door.
    const session = await behindDoor(
      door,
      async () => parseSessionPath(pathname),
      () => {
        const [, , agent, , action] = pathname.split("/");
        return agentTarget(agent, action ?? "", request);
      },
    );
    if (session instanceof Response) return session;
    if (session) {
      const stub = env.AGENTS.get(
        env.AGENTS.idFromName(sessionObjectName(session.agent, session.session)),
      );
      const forwarded = await behindDoor(
        door,
        () => withBufferedBody(routed ?? request, bodyLimit(session.action)),
        () => sessionTarget(session, request.method),
      );
      if (forwarded instanceof Response) return forwarded;
      // The session's object authorizes it (serveWithPlatform), before anything else.
      return await stub.fetch(forwarded);
    }
    throw new NotFoundError(
      "not_found",
      `no route for ${request.method} ${url.pathname.slice(0, 100)}${unservedDoor(url.pathname, options.mcp !== undefined)}; ${servedRoutes({ index: index !== undefined, streams: env.STREAMS !== undefined, mcp: options.mcp !== undefined })}`,
    );
  } catch (error) {
    return errorResponse(error, (cause) =>
      logger.error("request failed", { path: new URL(request.url).pathname, error: String(cause) }),
    );
  }
}

/** What the door of a session request checks with: the request, the Worker's env and the rule. */
interface Door {
  readonly request: Request;
  readonly env: Record<string, unknown>;
  readonly authorize: Authorize | undefined;
  readonly logger: Logger;
}

/**
 * Authorization first: what the Worker reads of a session request before its object
 * authorizes it (the chat id in a chat body, the session path's ids, a body within its
 * limit) can fail, and the caller hears why only if the rule lets it in (the check of
 * `target()`); else the rule's refusal, as every door gives it. A read that succeeds is not
 * checked here: the session object checks the request it is forwarded, once.
 */
async function behindDoor<T>(
  door: Door,
  read: () => Promise<T>,
  target: () => AuthTarget,
): Promise<T | Response> {
  try {
    return await read();
  } catch (error) {
    const outcome = await authorizeRequest(door.request, door.env, target(), door);
    if (outcome.type === "respond") return outcome.response;
    throw error;
  }
}

/**
 * The target of a session or chat request that names no valid session (a chat body that is
 * not JSON, has no chat id or is past its limit; an agent name or session id that is not one):
 * its agent (agentSub, `raw` as the path has it, decoded where it can be), at the scope of the
 * route `action` by the request's method (routeScope: `POST /chat/:agent` writes, its `GET`
 * stream reads).
 */
function agentTarget(raw: string | undefined, action: string, request: Request): AuthTarget {
  let agent = raw ?? "";
  try {
    agent = decodeURIComponent(agent);
  } catch {}
  return { sub: agentSub(agent), scope: routeScope(action, request.method), agent };
}

/**
 * The routes this Worker serves, each from its own declaration (the session route table and
 * its WebSocket, `sessionActions`; the chat URLs, the index paths, the stream root), and only those it serves: the index with an
 * index, `/v1/stream/*` with a STREAMS binding, `/mcp/:agent` with `mcp`.
 */
function servedRoutes(served: { index: boolean; streams: boolean; mcp: boolean }): string {
  const routes = [
    `session routes are /agents/:agent/:session/{${sessionActions().join(",")}}`,
    `chat (useChat) is ${CHAT_ROUTES.join(" and ")}`,
  ];
  if (served.index)
    routes.push(`the index is ${[...INDEX_PATHS].map((path) => `GET ${path}`).join(" and ")}`);
  if (served.streams) routes.push(`Durable Streams are ${STREAM_ROOT}:name`);
  if (served.mcp) routes.push(`MCP is ${MCP_ROOT}:agent`);
  return routes.join("; ");
}

/** Why a door routeRequest can serve is not served by this Worker: what would turn it on. */
function unservedDoor(pathname: string, mcp: boolean): string {
  if (pathname.startsWith(STREAM_ROOT))
    return " (Durable Streams are served with a STREAMS binding: bind DurableStreamObject as STREAMS in wrangler.jsonc and export it from the Worker)";
  if (pathname.startsWith(MCP_ROOT))
    return mcp
      ? " (/mcp/:agent takes an agent name of 1-64 lowercase letters, digits, _ or -, and no trailing slash)"
      : " (agents are served over MCP when routeRequest is given `mcp: { serve: serveAgentMcp }`, from @durable-agents/cloudflare/mcp)";
  return "";
}

/**
 * Session routes take small JSON bodies (`PUT .../state` up to the event limit: `bodyLimit`).
 * The Worker reads one whole (cut off past the limit, a 413) before forwarding it, so the object can answer without reading it: workerd reports
 * a request stream still being piped after the response as an uncaught exception.
 */
async function withBufferedBody(request: Request, maxBytes: number): Promise<Request> {
  if (request.body === null) return request;
  const body = await readBytes(request, maxBytes);
  if (request.method !== "GET" && request.method !== "HEAD") return new Request(request, { body });
  // A Request cannot carry a GET/HEAD body onward (Fetch spec: it throws a TypeError).
  if (body.byteLength > 0)
    throw new BadRequestError(
      "body_not_allowed",
      `${request.method} requests take no body; send parameters in the query string, or use POST/PUT for a JSON body`,
    );
  return new Request(request, { body: null });
}
