import { DurableAgentsError, type Logger } from "@durable-agents/core";

/**
 * The built-in dev secret. Accepted only for local dev's requests (isLocalDev: to a loopback
 * host, `wrangler dev`, `npm start`, and from no other site's page); anywhere else a request is refused with
 * `auth_not_configured`, so a deploy without a real secret fails loudly.
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
 * Local dev's own callers: a request to a loopback host, over loopback, that no other site's
 * page sent.
 * - The host is the request URL's, which `wrangler dev` takes from the `Host` header: a deploy
 *   is never reached at a loopback one, but any client can send `Host: localhost`.
 * - So the peer must be this machine too. `wrangler dev` (miniflare's entry worker) sets
 *   `CF-Connecting-IP` to the socket's peer address when the client sent none; a request whose
 *   `CF-Connecting-IP` is not a loopback address (remotePeer) came over the network, as it can
 *   when wrangler dev listens beyond loopback (`--ip 0.0.0.0`, Docker, a LAN). No header (the
 *   workers test pool, a direct `fetch` of the Worker): the host decides.
 *   Not a boundary against a client that means it: one that sends its own `CF-Connecting-IP:
 *   127.0.0.1` is kept as it sent it (miniflare cannot tell it apart). A dev server reachable
 *   from a network needs AUTH_SECRET and tokens (docs/api.md#auth).
 * - A browser names the page in `Origin` (Fetch spec) on every POST, CORS request and
 *   WebSocket handshake, and another site's page in the developer's browser reaches 127.0.0.1
 *   too (a no-cors POST, a WebSocket, which CORS does not guard); so an `Origin` that is not a
 *   loopback page (another site, or `null`: a sandboxed or file page) is not local dev. The
 *   CLI, curl and a page served from a loopback host (the inspector, a Vite dev server) are.
 */
export function isLocalDev(request: Request): boolean {
  return (
    isLoopback(request) && remotePeer(request) === undefined && foreignPage(request) === undefined
  );
}

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

/** The `Origin` of a page on another host than a loopback one; undefined when none sent it. */
function foreignPage(request: Request): string | undefined {
  const origin = request.headers.get("origin");
  if (origin === null) return undefined;
  try {
    if (LOOPBACK.has(new URL(origin).hostname)) return undefined;
  } catch {}
  return origin.slice(0, 100);
}

let announced = false;

/** The HMAC secret for this request: AUTH_SECRET, or the dev secret for local dev (isLocalDev). */
export function resolveSecret(
  env: Record<string, unknown>,
  request: Request,
  logger: Logger,
): string {
  const secret = env.AUTH_SECRET;
  if (typeof secret === "string" && secret !== "" && secret !== DEV_AUTH_SECRET) {
    if (secret.length < MIN_SECRET_CHARS)
      throw new AuthNotConfiguredError(`AUTH_SECRET has ${secret.length} characters`);
    return secret;
  }
  if (!isLocalDev(request)) {
    const page = isLoopback(request) ? foreignPage(request) : undefined;
    const peer = isLoopback(request) ? remotePeer(request) : undefined;
    logger.error(
      peer !== undefined
        ? `refusing a request from ${peer} on the network: AUTH_SECRET is not set, and local dev serves only this machine`
        : page !== undefined
          ? `refusing a request from the page ${page}: AUTH_SECRET is not set, and local dev serves only this machine's tools and loopback pages`
          : "refusing requests: AUTH_SECRET is not set (or is the dev secret) outside local dev",
    );
    throw new AuthNotConfiguredError(
      peer !== undefined
        ? `AUTH_SECRET is not set, and this request came over the network from ${peer} (CF-Connecting-IP), not from this machine: wrangler dev listens beyond loopback (--ip 0.0.0.0, Docker, a LAN), where local dev is not open; bind it to 127.0.0.1, or set AUTH_SECRET and send tokens`
        : page !== undefined
          ? `AUTH_SECRET is not set, and this request comes from the web page ${page}, not from local dev (this machine's tools, or a page on a loopback host)`
          : secret === DEV_AUTH_SECRET
            ? "AUTH_SECRET is the public dev secret, which only local dev may use"
            : "AUTH_SECRET is not set",
    );
  }
  if (!announced) {
    announced = true;
    logger.warn(
      "auth: AUTH_SECRET is not set, so local requests use the built-in dev secret (DEV_AUTH_SECRET). Set a real one before deploying.",
    );
  }
  return DEV_AUTH_SECRET;
}
