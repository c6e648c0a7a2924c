import {
  type AppContext,
  bodyLimit,
  type Caller,
  COMMAND_SCOPES,
  errorResponse,
  type Logger,
  MethodNotAllowedError,
  type PriceTable,
  type SessionHooks,
  type SessionRuntime,
  SOCKET_ROUTE,
  type SqlPort,
  sessionActions,
} from "@durable-agents/core";
import {
  type AuthIdentity,
  type Authorize,
  authorizeRequest,
  type SessionAuthority,
  sessionAuthority,
  sessionTarget,
} from "../auth/authorize.ts";
import type { SessionIndex } from "../d1/index-port.ts";
import { drainBody } from "../http/drain-body.ts";
import { AgentNotFoundError, type AgentRegistry } from "./registry.ts";
import { parseSessionPath } from "./session-path.ts";

/**
 * What a custom endpoint handler gets: the session it is called on. From `AppContext`:
 * `emit` (appended at once, outside any run), `projection(name)` and `schedule(...)`.
 */
export interface EndpointContext extends AppContext {
  readonly agent: string;
  readonly session: string;
  readonly env: Record<string, unknown>;
  readonly identity: AuthIdentity;
  /** The session's runtime (opened on first use). */
  runtime(): SessionRuntime;
}

/**
 * A custom session route, `METHOD /agents/:agent/:session/:action`. Checked
 * before the built-in routes, after auth.
 * @example
 * { method: "GET", action: "summary", handler: (req, ctx) => Response.json(ctx.runtime().status()) }
 */
export interface SessionEndpoint {
  readonly method: string;
  readonly action: string;
  readonly handler: (request: Request, ctx: EndpointContext) => Response | Promise<Response>;
}

export interface PlatformOptions {
  readonly hooks?: SessionHooks;
  readonly endpoints?: readonly SessionEndpoint[];
  /** Replaces the default signed-token check; see docs/api.md#auth. */
  readonly authorize?: Authorize;
  /** Prices for the cost in `GET .../usage`. */
  readonly prices?: PriceTable;
  /**
   * The cross-session index: `d1Index(...)` from `@durable-agents/cloudflare/d1` mirrors each
   * session's status and usage to D1 (see docs/api.md#the-d1-index). `routeRequest(..., {
   * server })` reads it from here for `GET /sessions` and `GET /usage`. Absent: sessions are not indexed (a Worker with INDEX_DB bound logs a warning).
   */
  readonly index?: SessionIndex;
}

export interface PlatformDeps {
  readonly registry: AgentRegistry;
  readonly logger: Logger;
  readonly env: Record<string, unknown>;
  readonly sql: SqlPort;
  open(agent: string, session: string): SessionRuntime;
}

/**
 * Everything in front of the built-in session routes: auth, the agent lookup,
 * `transformRequest`, custom endpoints; then `transformResponse` on the way out.
 */
export async function serveWithPlatform(
  request: Request,
  options: PlatformOptions,
  deps: PlatformDeps,
  builtIn: (
    request: Request,
    caller?: Caller,
    authorizeSession?: SessionAuthority,
  ) => Promise<Response>,
): Promise<Response> {
  const path = safeParse(request);
  if (!path) return builtIn(request);
  const base = { agent: path.agent, session: path.session, env: deps.env };
  let current = request;
  let response: Response;
  try {
    response = await admit();
  } catch (error) {
    // A refused request's body is never read: take it (see drainBody).
    await drainBody(current, bodyLimit(path.action));
    response = errorResponse(error, (cause) =>
      deps.logger.error("session request failed", { error: String(cause) }),
    );
  }
  const transform = options.hooks?.transformResponse;
  if (!transform || response.status === 101) return response;
  return transform(response, { ...base, request: current });

  async function admit(): Promise<Response> {
    if (!path) return builtIn(current);
    const target = sessionTarget(path, current.method);
    const rule = { authorize: options.authorize, logger: deps.logger };
    const outcome = await authorizeRequest(current, deps.env, target, {
      ...rule,
      // A socket reads, and its frames are commands: find out now what they may do.
      alsoScopes: path.action === SOCKET_ROUTE.action ? COMMAND_SCOPES : [],
    });
    if (outcome.type === "respond") return outcome.response;
    // A fork's target is asked of the same rule, with the request that rule saw.
    const authority = sessionAuthority(current, deps.env, target, rule);
    if (!deps.registry.has(path.agent))
      throw new AgentNotFoundError(path.agent, deps.registry.types());
    const runtime = () => deps.open(path.agent, path.session);
    if (options.index?.covers(path.agent)) options.index.recordIdentity(deps.sql, outcome.identity);
    if (options.hooks?.transformRequest)
      current = await options.hooks.transformRequest(current, base);
    const matches = options.endpoints?.filter((e) => e.action === path.action) ?? [];
    const endpoint = matches.find((e) => e.method === current.method);
    if (endpoint)
      return endpoint.handler(current, {
        ...base,
        identity: outcome.identity,
        runtime,
        emit: (event, payload) => runtime().appContext().emit(event, payload),
        projection: (name) => runtime().appContext().projection(name),
        schedule: (request) => runtime().appContext().schedule(request),
      });
    if (matches.length > 0 && !isBuiltIn(path.action))
      throw new MethodNotAllowedError(
        current.method,
        `.../${path.action}`,
        matches.map((e) => e.method),
      );
    return builtIn(current, outcome.caller, authority);
  }
}

function isBuiltIn(action: string): boolean {
  return sessionActions().includes(action);
}

/** Path errors are left to the built-in handler, which renders them. */
function safeParse(request: Request) {
  try {
    return parseSessionPath(new URL(request.url).pathname);
  } catch {
    return undefined;
  }
}
