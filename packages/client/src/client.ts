import { type HttpContext, requestJson, type WebSocketConstructor } from "./http.ts";
import { AgentSession, type CallOptions } from "./session.ts";
import { tokenOptions } from "./token.ts";
import type { SessionQuery, SessionsPage } from "./types.ts";

/** Filters of `GET /sessions` (the D1 index), as the server declares them. */
export interface SessionsQuery extends SessionQuery, CallOptions {}

export const DEFAULT_BASE_URL = "http://127.0.0.1:8787";

export interface ClientOptions {
  /** Server origin, e.g. `http://127.0.0.1:8787` (the default). */
  readonly baseUrl?: string;
  /** A fetch to use instead of the global one (tests, auth wrappers, service bindings). */
  readonly fetch?: typeof fetch;
  /** Headers sent with every request, e.g. `authorization`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** A WebSocket constructor for `transport: "ws"` and `connect()` where there is no global one. */
  readonly WebSocket?: WebSocketConstructor;
  /**
   * A token (`mintSessionToken`, `mintIndexToken`, ... with the server's AUTH_SECRET) sent on
   * every request: `authorization: Bearer <token>` over HTTP, `?token=` on the WebSocket (which
   * carries no header). Unset: nothing is added (local dev, or your own `headers`/`fetch`).
   */
  readonly token?: string;
}

export interface DurableAgentsClient {
  readonly baseUrl: string;
  session(agent: string, sessionId: string): AgentSession;
  /**
   * Sessions from the cross-session index (`GET /sessions`), newest first. Needs a server
   * with the D1 index and, beyond local dev, a token with the `admin` scope (mintIndexToken).
   */
  sessions(query?: SessionsQuery): Promise<SessionsPage>;
}

/**
 * @example
 * const client = createClient({ baseUrl: "http://127.0.0.1:8787" });
 * const session = client.session("assistant", crypto.randomUUID());
 */
export function createClient(options: ClientOptions = {}): DurableAgentsClient {
  const auth =
    options.token === undefined ? undefined : tokenOptions(options.token, options.WebSocket);
  const ctx: HttpContext = {
    baseUrl: (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ""),
    // Wrapped so browsers call fetch with the right `this`.
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    headers: { ...options.headers, ...auth?.headers },
    WebSocket: auth?.WebSocket ?? options.WebSocket,
  };
  return {
    baseUrl: ctx.baseUrl,
    session: (agent, sessionId) => new AgentSession(ctx, agent, sessionId),
    sessions: ({ signal, ...query } = {}) =>
      requestJson(ctx, "/sessions", { query, ...(signal ? { signal } : {}) }),
  };
}
