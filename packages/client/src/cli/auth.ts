/**
 * The CLI's token: sent on every request, and its refusals explained.
 *
 * The server's auth refusals (docs/api.md#auth: 401 `unauthorized`, `invalid_token`,
 * `token_expired`; 403 `wrong_session`, `missing_scope`) say what to send in HTTP terms
 * (`authorization: Bearer`, `?token=`). The CLI says the same in its own: which token to
 * pass, and where (`--token`, `DURABLE_AGENTS_TOKEN`).
 */
import type { DurableAgentsClientError } from "../errors.ts";

const PASS = "pass it with --token <token> or set DURABLE_AGENTS_TOKEN";

/**
 * Which function mints the token wanted: the one the server names (`details.mint` of its 401
 * `unauthorized`, e.g. `mintIndexToken` on the index routes), else the index's for the `admin`
 * scope, else mintSessionToken.
 */
function mintAdvice(error: DurableAgentsClientError, scope: string | undefined): string {
  const named = typeof error.details?.mint === "string" ? error.details.mint : undefined;
  const mint = named ?? (scope === "admin" ? "mintIndexToken" : "mintSessionToken");
  return `mint one with ${mint} and the server's AUTH_SECRET (docs/client.md#tokens)`;
}

/** What the wanted token must name: this session, this stream, or nothing (an index token). */
function forWhat(error: DurableAgentsClientError): string {
  const named = error.details?.mint;
  if (named === "mintIndexToken") return "";
  if (named === "mintStreamToken") return " for this stream";
  return " for this session";
}

/** The CLI's one line for an auth refusal, or undefined when `error` is not one. */
export function authAdvice(
  error: DurableAgentsClientError,
  sentToken: boolean,
): string | undefined {
  const scope = typeof error.details?.needed === "string" ? error.details.needed : undefined;
  const mint = mintAdvice(error, scope);
  switch (error.code) {
    case "unauthorized":
      return sentToken
        ? `the server refused the token: ${error.message}`
        : `the server needs a token (it has AUTH_SECRET set) and none was sent: ${PASS}; ${mint}`;
    case "invalid_token":
      return `the server refused the token: it is malformed or not signed with this server's AUTH_SECRET; ${mint}, and ${PASS}`;
    case "token_expired":
      return `${error.message}; ${mint}, and ${PASS}`;
    case "wrong_session":
      return `${error.message}; ${mint}${forWhat(error)}, and ${PASS}`;
    case "missing_scope":
      return `${error.message}; ${mint} with the "${scope ?? "needed"}" scope, and ${PASS}`;
    default:
      return undefined;
  }
}
