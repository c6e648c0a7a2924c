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
 * Local dev's own callers: a request to a loopback host that no other site's page sent. A
 * browser names the page in `Origin` (Fetch spec) on every POST, CORS request and WebSocket
 * handshake, and another site's page in the developer's browser reaches 127.0.0.1 too (a
 * no-cors POST, a WebSocket, which CORS does not guard); so an `Origin` that is not a
 * loopback page (another site, or `null`: a sandboxed or file page) is not local dev. The
 * CLI, curl and a page served from a loopback host (the inspector, a Vite dev server) are.
 * The host is the request URL's (its `Host`): a deploy is never reached at a loopback one.
 */
export function isLocalDev(request: Request): boolean {
  return isLoopback(request) && foreignPage(request) === undefined;
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
    logger.error(
      page === undefined
        ? "refusing requests: AUTH_SECRET is not set (or is the dev secret) outside local dev"
        : `refusing a request from the page ${page}: AUTH_SECRET is not set, and local dev serves only this machine's tools and loopback pages`,
    );
    throw new AuthNotConfiguredError(
      page !== undefined
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
