import * as z from "zod/mini";

/**
 * The headers a run's `modelOptions.headers` may not set (compared lower-case): credentials,
 * which would let a client replace or add the provider key the agent's code chose, and
 * hop-by-hop or framing headers, which belong to the transport (RFC 9110 §7.6.1, RFC 9112
 * §6). Agent-level `modelOptions.headers` and `prepareStep` are the app's own code and may set
 * any of them.
 */
export const RUN_HEADER_DENY_LIST: readonly string[] = [
  // Credentials: OpenAI, Azure OpenAI, Anthropic, Google, Cloudflare AI Gateway, cookies.
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "api-key",
  "x-goog-api-key",
  "cf-aig-authorization",
  "cookie",
  // Hop-by-hop and framing.
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "content-length",
  "te",
  "trailer",
  "upgrade",
  "expect",
];

const DENIED = new Set(RUN_HEADER_DENY_LIST);

/** A header name: an RFC 9110 token (https://fetch.spec.whatwg.org/#header-name). */
const headerName = z
  .string()
  .check(
    z.regex(
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/,
      "must be an HTTP header name (token characters)",
    ),
  );

/**
 * A header value as the Fetch spec's `Headers` takes it (https://fetch.spec.whatwg.org/#header-value,
 * and WebIDL ByteString): no NUL, CR or LF, no leading or trailing space or tab (which `Headers`
 * would silently strip), and only Latin-1 characters. Empty is allowed.
 */
const headerValue = z
  .string()
  .check(
    z.maxLength(8192),
    z.regex(
      /^(?:[^\0\r\n\t \u0100-\uffff](?:[^\0\r\n\u0100-\uffff]*[^\0\r\n\t \u0100-\uffff])?)?$/,
      "must be an HTTP header value: no CR, LF or NUL, no leading or trailing whitespace, Latin-1 characters only",
    ),
  );

/** The headers of agent-level options and `prepareStep` (the app's code): any valid header. */
export const headersSchema = z.record(headerName, z.optional(headerValue));

/** The headers of a run's options (the client's): valid, and none on `RUN_HEADER_DENY_LIST`. */
export const runHeadersSchema = headersSchema.check((ctx) => {
  for (const name of Object.keys(ctx.value)) {
    if (DENIED.has(name.toLowerCase()))
      ctx.issues.push({
        code: "custom",
        input: name,
        path: [name],
        message: `may not be set by a run (credential and hop-by-hop headers are the agent's: set them in defineAgent's modelOptions.headers); refused: ${RUN_HEADER_DENY_LIST.join(", ")}`,
      });
  }
});
