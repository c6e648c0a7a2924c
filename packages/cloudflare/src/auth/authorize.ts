import {
  type Caller,
  checkCaller,
  decideAccess,
  expiredError,
  ForbiddenError,
  type Logger,
  missingScopeError,
  otherSessionError,
  routeScope,
  type TokenScope,
  UnauthorizedError,
  verifySessionToken,
} from "@durable-agents/core";
import { isLocalDev, resolveSecret } from "./secret.ts";

/**
 * What a request asks for: one session (`sub` = `agent/session`, with `agent` and `session`),
 * the index (`sub` = `*`), one Durable Stream (`sub` = `stream:<path>`, with `stream`, the
 * path after `/v1/stream/`; subscription routes name `__ds/subscriptions/<id>` or `__ds/jwks.json`),
 * an agent's MCP server (`sub` = `mcp:<agent>`, with `agent` and scope `read`; a session
 * token of that agent opens it), or an agent when a request names no valid session
 * (`sub` = `agent:<agent>`, with `agent` and the route's scope, no `session`: asked only when
 * `POST /chat/:agent`'s body is not JSON, has no chat id or is past its limit, or a chat id
 * or path id is not a session id, so the caller hears why only if the rule lets it in; a
 * session token of that agent opens it).
 */
export interface AuthTarget {
  readonly sub: string;
  readonly scope: TokenScope;
  readonly agent?: string;
  readonly session?: string;
  readonly stream?: string;
}

/** The target of the session route `action` of `agent/session` by `method` (its scope: routeScope). */
export function sessionTarget(
  path: { readonly agent: string; readonly session: string; readonly action: string },
  method: string,
): AuthTarget {
  return {
    sub: `${path.agent}/${path.session}`,
    scope: routeScope(path.action, method),
    agent: path.agent,
    session: path.session,
  };
}

/** Resolves when the caller may `scope` the session `session` of the same agent; throws the refusal. */
export type SessionAuthority = (session: string, scope: TokenScope) => Promise<void>;

/**
 * The caller's authority over other sessions of the agent of `source` (a session target): what
 * a command that writes another session (a fork's target, `SessionCommand.writesSession`) asks.
 * The same rule as `source`, asked with the same request: the app's `authorize` with the
 * target `{ sub: "agent/session", scope, agent, session }`, or the default token check, where
 * a session token names one session and so never covers another (403 `wrong_session`, saying
 * what to send); an identity past its `expiresAt` is 401 `token_expired`, one without the scope
 * 403 `missing_scope` (checkCaller). A rule's `Response` is a refusal here (the command is
 * already under way).
 */
export function sessionAuthority(
  request: Request,
  env: Record<string, unknown>,
  source: AuthTarget,
  options: Omit<AuthorizeOptions, "alsoScopes">,
): SessionAuthority {
  return async (session, scope) => {
    const agent = source.agent ?? "";
    const target: AuthTarget = { sub: `${agent}/${session}`, scope, agent, session };
    const refused = (why: string) => otherSessionError(source.sub, target.sub, why);
    let outcome: AuthOutcome;
    try {
      outcome = await authorizeRequest(request, env, target, options);
    } catch (error) {
      if (error instanceof ForbiddenError && error.code === "wrong_session")
        throw refused(`the credentials sent cover "${source.sub}", not it`);
      throw error;
    }
    if (outcome.type === "respond")
      throw refused(`the authorize rule answered for "${target.sub}" instead of allowing it`);
    // Expiry, then scope: the check every command's caller gets (checkCaller).
    checkCaller(outcome.caller, scope, Date.now());
  };
}

/** Who the caller is: the user and tags go to the cross-session index. */
export interface AuthIdentity {
  readonly user?: string;
  readonly tags?: readonly string[];
  /**
   * The scopes the caller holds. Absent: the `authorize` hook is asked again for each
   * other scope a WebSocket's commands need (`write`) at the upgrade.
   */
  readonly scopes?: readonly TokenScope[];
  /** Epoch ms after which a WebSocket opened by this caller may send no more commands. */
  readonly expiresAt?: number;
}

/**
 * Replaces the default token check. Return nothing, `true` or an identity to
 * allow; `false` for a 403; a Response to answer with it; or throw a
 * DurableAgentsError.
 */
export type Authorize = (
  request: Request,
  env: Record<string, unknown>,
  target: AuthTarget,
) => AuthDecision | Promise<AuthDecision>;

export type AuthDecision = undefined | boolean | Response | AuthIdentity;

export type AuthOutcome =
  | { readonly type: "allowed"; readonly identity: AuthIdentity; readonly caller: Caller }
  | { readonly type: "respond"; readonly response: Response };

export interface AuthorizeOptions {
  readonly authorize?: Authorize;
  readonly logger: Logger;
  /**
   * Scopes to find out besides `target.scope` (a WebSocket upgrade reads, and its
   * commands write). A token says them itself; an `authorize` hook whose identity has
   * no `scopes` is asked once more per scope, and a refusal there only withholds it.
   */
  readonly alsoScopes?: readonly TokenScope[];
}

/** Runs the app's `authorize`, or the default signed-token check; says who the caller is. */
export async function authorizeRequest(
  request: Request,
  env: Record<string, unknown>,
  target: AuthTarget,
  options: AuthorizeOptions,
): Promise<AuthOutcome> {
  const decision = options.authorize
    ? await options.authorize(request, env, target)
    : await tokenIdentity(request, env, target, options.logger);
  if (decision instanceof Response) return { type: "respond", response: decision };
  if (decision === false)
    throw new ForbiddenError("forbidden", "the authorize hook refused this request");
  const identity = typeof decision === "object" ? decision : {};
  const scopes = [...(identity.scopes ?? [target.scope])];
  if (identity.scopes === undefined && options.authorize) {
    for (const scope of options.alsoScopes ?? []) {
      if (
        !scopes.includes(scope) &&
        (await allows(options.authorize, request, env, { ...target, scope }))
      )
        scopes.push(scope);
    }
  }
  const { user, tags, expiresAt } = identity;
  const caller: Caller = {
    identity: { ...(user === undefined ? {} : { user }), ...(tags === undefined ? {} : { tags }) },
    scopes,
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
  return { type: "allowed", identity: caller.identity, caller };
}

async function allows(
  authorize: Authorize,
  request: Request,
  env: Record<string, unknown>,
  target: AuthTarget,
): Promise<boolean> {
  try {
    const decision = await authorize(request, env, target);
    return decision !== false && !(decision instanceof Response);
  } catch {
    return false;
  }
}

/** The function that mints the token a target takes: the index's is an admin token for `*`. */
function mintFunctionFor(target: AuthTarget): string {
  if (target.stream !== undefined) return "mintStreamToken";
  if (target.sub === "*") return "mintIndexToken";
  return "mintSessionToken";
}

/**
 * The default: a token (mintSessionToken, mintStreamToken, mintIndexToken) in
 * `authorization: Bearer` or `?token=`, signed with AUTH_SECRET, naming this target
 * (session, stream or stream prefix, index) and the scope.
 */
export async function verifyRequestToken(
  request: Request,
  env: Record<string, unknown>,
  target: AuthTarget,
  logger: Logger,
): Promise<AuthIdentity> {
  const { user, tags } = await tokenIdentity(request, env, target, logger);
  return { ...(user === undefined ? {} : { user }), ...(tags === undefined ? {} : { tags }) };
}

/** The token check, with the token's scopes and expiry. */
async function tokenIdentity(
  request: Request,
  env: Record<string, unknown>,
  target: AuthTarget,
  logger: Logger,
  origins?: ReadonlySet<string>,
): Promise<AuthIdentity> {
  const secret = resolveSecret(env, request, logger, origins);
  const token = readToken(request);
  if (!token) {
    const mint = mintFunctionFor(target);
    throw new UnauthorizedError(
      "unauthorized",
      `this route needs a token; send \`authorization: Bearer <token>\` (or ?token=) minted with ${mint}`,
      { details: { mint } },
    );
  }
  const result = await verifySessionToken(secret, token, Date.now());
  switch (result.type) {
    case "malformed":
    case "bad_signature":
      throw new UnauthorizedError(
        "invalid_token",
        "the session token is malformed or its signature does not match; mint a new one with the server's AUTH_SECRET",
      );
    case "expired":
      throw expiredError(result.expiredAt);
    case "valid": {
      const access = decideAccess(result.claims, target);
      if (access.type === "other_session") {
        const mint = mintFunctionFor(target);
        throw new ForbiddenError(
          "wrong_session",
          `the token is for "${access.tokenSub.slice(0, 200)}", not ${target.sub === "*" ? "the index (GET /sessions, GET /usage)" : `"${target.sub.slice(0, 200)}"`}; a token opens only the session or streams it names, and this route takes one minted with ${mint}`,
          { details: { mint } },
        );
      }
      if (access.type === "missing_scope") throw missingScopeError(target.scope, access.has);
      const { user, tags, scope, exp } = result.claims;
      return {
        ...(user === undefined ? {} : { user }),
        ...(tags === undefined ? {} : { tags }),
        scopes: scope,
        expiresAt: exp * 1000,
      };
    }
  }
}

/** What allowLocalDev lets in besides this machine's tools and the server's own pages. */
export interface LocalDevOptions {
  /**
   * Pages served from another origin that may use the dev server without a token: each a
   * serialized origin, `scheme://host[:port]` with no path (`"http://localhost:5173"`, a Vite
   * dev server's), as a browser sends it in `Origin` (Fetch spec). Default: none.
   */
  readonly origins?: readonly string[];
}

/**
 * For local dev only: allows requests to a loopback host while AUTH_SECRET is unset (so the
 * CLI works against `npm start` without a token), if they are local dev's (isLocalDev): over
 * loopback (wrangler dev's `CF-Connecting-IP`, the socket's peer, is a loopback address), and
 * with no `Origin` (the CLI, curl, Node clients) or the `Origin` of a page the server serves
 * itself (the request's own origin: scheme, host and port) or of one in `options.origins`.
 * Everything else gets the default token check, so a deploy is never open: a page on another
 * site or another loopback port (any local dev server) is refused with 403
 * `origin_not_allowed`; a host that is not loopback asked from this machine (a `Host` set by
 * hand, a tunnel's name) with 403 `host_not_local`; a public host from a public address (a
 * deployed Worker) or a network peer with 500 `auth_not_configured`.
 *
 * Only for a dev server bound to loopback (`npm start` binds 127.0.0.1). The host is the
 * `Host` header, and under `wrangler dev --ip 0.0.0.0` (Docker, a LAN) a machine on the
 * network that sends both `Host: localhost` and its own `CF-Connecting-IP: 127.0.0.1`
 * passes (wrangler keeps a client's header as sent); such a server needs AUTH_SECRET.
 * Equal options (the same pages, in any order) give the same rule, the same function.
 * @throws TypeError when an `origins` entry is not a serialized origin (a path, no scheme, `*`, `null`).
 * @example
 * export const AgentSession = createAgentServer({ agents, authorize: allowLocalDev() });
 * // A dev page served by Vite on another port, proxying to the Worker:
 * allowLocalDev({ origins: ["http://localhost:5173"] });
 */
export function allowLocalDev(options: LocalDevOptions = {}): Authorize {
  const origins = new Set((options.origins ?? []).map(serializedOrigin));
  const key = JSON.stringify([...origins].sort());
  const made = localDevRules.get(key);
  if (made) return made;
  const rule: Authorize = (request, env, target) => {
    if (isLocalDev(request, origins) && (env.AUTH_SECRET === undefined || env.AUTH_SECRET === ""))
      return true;
    return tokenIdentity(request, env, target, silentOnce, origins);
  };
  localDevRules.set(key, rule);
  return rule;
}

/**
 * The local-dev rules made in this isolate, by their origins (serialized, sorted): equal options
 * give the same rule, so `allowLocalDev()` written for createAgentServer and again for
 * routeRequest is one rule where rules are compared (router-options.ts, by identity), not 500
 * `conflicting_options`. One entry per distinct list of pages an app writes.
 */
const localDevRules = new Map<string, Authorize>();

/** `entry` as a browser's `Origin` names it (`URL.origin`); TypeError if it is not an origin. */
function serializedOrigin(entry: string): string {
  let url: URL | undefined;
  try {
    url = new URL(entry);
  } catch {}
  if (
    url === undefined ||
    url.origin === "null" ||
    url.pathname !== "/" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.username !== "" ||
    url.password !== ""
  )
    throw new TypeError(
      `allowLocalDev: ${JSON.stringify(entry)} is not an origin; list pages as a browser's Origin names them, "scheme://host[:port]" with no path (e.g. "http://localhost:5173")`,
    );
  return url.origin;
}

const silentOnce: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function readToken(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
    return match?.[1];
  }
  return new URL(request.url).searchParams.get("token") ?? undefined;
}
