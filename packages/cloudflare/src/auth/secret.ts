import { DurableAgentsError, ForbiddenError, type Logger } from "@durable-agents/core";

/**
 * The built-in dev secret. Accepted only for local dev's requests (isLocalDev: to a loopback
 * host, `wrangler dev`, `npm start`, over loopback, and from no page but the server's own);
 * anywhere else a request is refused with `auth_not_configured`, so a deploy without a real
 * secret fails loudly (a page that is not local dev's: 403 `origin_not_allowed`).
 */
export const DEV_AUTH_SECRET = "durable-agents-dev-secret-do-not-deploy";

/** Shortest accepted AUTH_SECRET: 32 characters (256 bits as hex is 64). */
export const MIN_SECRET_CHARS = 32;

/** 500: the server has no usable AUTH_SECRET. An operator error, not the caller's. */
export class AuthNotConfiguredError extends DurableAgentsError {
  override name = "AuthNotConfiguredError";
  constructor(why: string) {
    super(
      "auth_not_configured",
      500,
      `auth is not configured: ${why}. Set a secret of at least ${MIN_SECRET_CHARS} characters with \`wrangler secret put AUTH_SECRET\`, or pass your own \`authorize\` to createAgentServer (routeRequest's \`server\` applies it to the Worker's routes)`,
      false,
    );
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Whether the request is to a loopback host (`localhost`, `127.0.0.1`, `[::1]`), as `wrangler dev` serves. */
export function isLoopback(request: Request): boolean {
  return LOOPBACK.has(new URL(request.url).hostname);
}

/**
 * 403 `origin_not_allowed`: a browser page that is not local dev's asked a dev server that
 * runs without AUTH_SECRET. A caller refused, not an operator error: the server is set up
 * right for local dev, and the page is just not one of its own (isLocalDev).
 */
export class OriginNotAllowedError extends ForbiddenError {
  override name = "OriginNotAllowedError";
  constructor(page: string, own: string) {
    super(
      "origin_not_allowed",
      `the page ${page} may not use this dev server: AUTH_SECRET is not set, so local dev answers only this machine's tools (which send no Origin) and the pages the server serves itself (${own}). ${
        page === "null"
          ? "A sandboxed or file: page (Origin: null) cannot be let in; serve it from a dev server and list that origin"
          : `If it is your dev page served elsewhere (a Vite dev server), list it: \`allowLocalDev({ origins: ["${page}"] })\``
      }; or set AUTH_SECRET and send tokens (docs/api.md#auth)`,
    );
  }
}

/**
 * 403 `host_not_local`: a client on this machine asked a dev server that runs without
 * AUTH_SECRET under a host name that is not loopback (a `Host` header set by hand, a tunnel
 * or proxy on this machine that forwards its public name). The caller refused, not an operator
 * error: the server is set up right for local dev, which answers only loopback names. Not 421
 * (RFC 9110, 15.5.20): that invites a client to retry on another connection, and no
 * connection to this server is the right one for that name.
 */
export class HostNotLocalError extends ForbiddenError {
  override name = "HostNotLocalError";
  constructor(host: string) {
    super(
      "host_not_local",
      `this dev server runs without AUTH_SECRET, so it answers only requests to a loopback host (127.0.0.1, localhost or [::1]); this one names the host "${host}" (its Host header). Use the address the server printed, e.g. http://127.0.0.1:8787; if a tunnel or proxy forwards that name here, the server is reachable beyond this machine: set AUTH_SECRET and send tokens (docs/api.md#auth)`,
    );
  }
}

/**
 * Whether `request` is local dev's, and if not, why: `public_host` (not to a loopback host,
 * from no peer this machine is: a deployed Worker, where CF-Connecting-IP is the client's
 * address), `foreign_host` (not to a loopback host, but over loopback: wrangler dev on this
 * machine, asked under another name), `network_peer` (CF-Connecting-IP names a peer that is
 * not loopback) or `page` (a browser page that is neither the request's own origin nor one
 * of `origins`).
 */
export type LocalDevCheck =
  | { readonly type: "local" }
  | { readonly type: "public_host" }
  | { readonly type: "foreign_host"; readonly host: string }
  | { readonly type: "network_peer"; readonly peer: string }
  | { readonly type: "page"; readonly page: string; readonly own: string };

/**
 * Local dev's own callers: a request to a loopback host, over loopback, that no page but the
 * server's own (or one the app listed) sent.
 * - The host is the request URL's, which `wrangler dev` takes from the `Host` header: a deploy
 *   is never reached at a loopback one, but any client can send `Host: localhost`. A host that
 *   is not loopback reached over loopback (CF-Connecting-IP a loopback address, which
 *   Cloudflare's edge never sets) is wrangler dev asked under another name: `foreign_host`.
 * - So the peer must be this machine too. `wrangler dev` (miniflare's entry worker) sets
 *   `CF-Connecting-IP` to the socket's peer address when the client sent none; a request whose
 *   `CF-Connecting-IP` is not a loopback address (remotePeer) came over the network, as it can
 *   when wrangler dev listens beyond loopback (`--ip 0.0.0.0`, Docker, a LAN). No header (the
 *   workers test pool, a direct `fetch` of the Worker): the host decides.
 *   Not a boundary against a client that means it: one that sends its own `CF-Connecting-IP:
 *   127.0.0.1` is kept as it sent it (miniflare cannot tell it apart). A dev server reachable
 *   from a network needs AUTH_SECRET and tokens (docs/api.md#auth).
 * - A browser names the page in `Origin` (the Fetch spec, "Origin header": the serialized
 *   origin `scheme://host[:port]`, or `null` for a sandboxed or file page) on every POST, CORS
 *   request and WebSocket handshake, and any page in the developer's browser reaches 127.0.0.1
 *   too (a no-cors POST, a WebSocket, which CORS does not guard), another site's or one on
 *   another loopback port (any local dev server). So a page is local dev only if its `Origin`
 *   is the request's own origin (`new URL(request.url).origin`: under `wrangler dev`, the
 *   scheme, host and port the browser asked for, so the pages the Worker serves itself, the
 *   quickstart's inspector and the chat app, are in) or is one of `origins`, each a serialized
 *   origin (`"http://localhost:5173"`, allowLocalDev's list). The CLI, curl and Node clients
 *   send no `Origin` and are in.
 */
export function localDevCheck(
  request: Request,
  origins: ReadonlySet<string> = NO_ORIGINS,
): LocalDevCheck {
  if (!isLoopback(request)) {
    if (request.headers.has("cf-connecting-ip") && remotePeer(request) === undefined)
      return { type: "foreign_host", host: new URL(request.url).host.slice(0, 100) };
    return { type: "public_host" };
  }
  const peer = remotePeer(request);
  if (peer !== undefined) return { type: "network_peer", peer };
  const page = request.headers.get("origin");
  if (page === null) return { type: "local" };
  const own = new URL(request.url).origin;
  if (page === own || origins.has(page)) return { type: "local" };
  return { type: "page", page: page.slice(0, 100), own };
}

/** Whether `request` is local dev's (localDevCheck), with `origins` the pages listed besides its own. */
export function isLocalDev(request: Request, origins?: ReadonlySet<string>): boolean {
  return localDevCheck(request, origins).type === "local";
}

const NO_ORIGINS: ReadonlySet<string> = new Set();

/**
 * The peer's address when `CF-Connecting-IP` names one that is not loopback (127.0.0.0/8,
 * `::1`, or either IPv4-mapped `::ffff:127.x.x.x`); undefined when it is loopback or absent.
 */
export function remotePeer(request: Request): string | undefined {
  const header = request.headers.get("cf-connecting-ip");
  if (header === null) return undefined;
  const ip = header
    .trim()
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase();
  const v4 = ip.startsWith("::ffff:") ? ip.slice("::ffff:".length) : ip;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || ip === "::1" || ip === "0:0:0:0:0:0:0:1")
    return undefined;
  return header.slice(0, 64);
}

let announced = false;
let pageRefusalSaid = false;
let hostRefusalSaid = false;

/**
 * The HMAC secret for this request: AUTH_SECRET, or the dev secret for local dev
 * (localDevCheck, with `origins` the pages listed besides the request's own).
 * @throws AuthNotConfiguredError (500, logged) when AUTH_SECRET is unset or short outside local
 *   dev: on a public host, or from a network peer; OriginNotAllowedError (403, a warning said
 *   once) when a page that is not local dev's sent it; HostNotLocalError (403, a warning said
 *   once) when this machine asked it under a host that is not loopback.
 */
export function resolveSecret(
  env: Record<string, unknown>,
  request: Request,
  logger: Logger,
  origins?: ReadonlySet<string>,
): string {
  const secret = env.AUTH_SECRET;
  if (typeof secret === "string" && secret !== "" && secret !== DEV_AUTH_SECRET) {
    if (secret.length < MIN_SECRET_CHARS)
      throw new AuthNotConfiguredError(`AUTH_SECRET has ${secret.length} characters`);
    return secret;
  }
  const check = localDevCheck(request, origins);
  switch (check.type) {
    case "page":
      // The caller's refusal, in its answer; said once so that a page cannot fill the log.
      if (!pageRefusalSaid) {
        pageRefusalSaid = true;
        logger.warn(
          `auth: refusing requests from the page ${check.page} (403 origin_not_allowed; said once, for any page): AUTH_SECRET is not set, and local dev answers only this machine's tools and the server's own pages; list a dev page with allowLocalDev({ origins })`,
        );
      }
      throw new OriginNotAllowedError(check.page, check.own);
    case "foreign_host":
      if (!hostRefusalSaid) {
        hostRefusalSaid = true;
        logger.warn(
          `auth: refusing requests to the host "${check.host}" over loopback (403 host_not_local; said once, for any host): AUTH_SECRET is not set, and local dev answers only loopback hosts`,
        );
      }
      throw new HostNotLocalError(check.host);
    case "network_peer":
      logger.error(
        `refusing a request from ${check.peer} on the network: AUTH_SECRET is not set, and local dev serves only this machine`,
      );
      throw new AuthNotConfiguredError(
        `AUTH_SECRET is not set, and this request came over the network from ${check.peer} (CF-Connecting-IP), not from this machine: wrangler dev listens beyond loopback (--ip 0.0.0.0, Docker, a LAN), where local dev is not open; bind it to 127.0.0.1, or set AUTH_SECRET and send tokens`,
      );
    case "public_host":
      logger.error(
        "refusing requests: AUTH_SECRET is not set (or is the dev secret) outside local dev",
      );
      throw new AuthNotConfiguredError(
        secret === DEV_AUTH_SECRET
          ? "AUTH_SECRET is the public dev secret, which only local dev may use"
          : "AUTH_SECRET is not set",
      );
    case "local":
      break;
  }
  if (!announced) {
    announced = true;
    logger.warn(
      "auth: AUTH_SECRET is not set, so local requests use the built-in dev secret (DEV_AUTH_SECRET). Set a real one before deploying.",
    );
  }
  return DEV_AUTH_SECRET;
}
