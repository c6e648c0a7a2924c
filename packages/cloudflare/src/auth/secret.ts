import { DurableAgentsError, type Logger } from "@durable-agents/core";

/**
 * The built-in dev secret. Accepted only for requests to a loopback host
 * (`wrangler dev`, `npm start`); anywhere else a request is refused with
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

export function isLoopback(request: Request): boolean {
  return LOOPBACK.has(new URL(request.url).hostname);
}

let announced = false;

/** The HMAC secret for this request: AUTH_SECRET, or the dev secret on a loopback host. */
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
  if (!isLoopback(request)) {
    logger.error(
      "refusing requests: AUTH_SECRET is not set (or is the dev secret) outside local dev",
    );
    throw new AuthNotConfiguredError(
      secret === DEV_AUTH_SECRET
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
