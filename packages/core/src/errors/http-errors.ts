import { type ErrorOptions, UserError } from "./base.ts";

/** 400: the request is malformed or fails validation. */
export class BadRequestError extends UserError {
  override name = "BadRequestError";
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 400, message, options);
  }
}

export class NotFoundError extends UserError {
  override name = "NotFoundError";
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 404, message, options);
  }
}

export class ConflictError extends UserError {
  override name = "ConflictError";
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 409, message, options);
  }
}

export class PayloadTooLargeError extends UserError {
  override name = "PayloadTooLargeError";
  /** `todo`: what to do instead, when a smaller body is not it (the server built what was too large). */
  constructor(
    what: string,
    limitBytes: number,
    todo = "send a smaller body",
    details: Record<string, unknown> = {},
  ) {
    super(
      "payload_too_large",
      413,
      `${what} is larger than the limit of ${limitBytes} bytes; ${todo} (see docs/limits.md)`,
      { details: { limitBytes, ...details } },
    );
  }
}

/**
 * 415: a body that should be JSON came with another media type (or none). Refused before the
 * body is read, so a cross-site "simple" request (`text/plain`, a form post), which a browser
 * sends without a CORS preflight, can change nothing.
 */
export class UnsupportedMediaTypeError extends UserError {
  override name = "UnsupportedMediaTypeError";
  constructor(what: string, received: string | null) {
    super(
      "unsupported_media_type",
      415,
      `${what} must be JSON, sent with content-type: application/json; it came with ${received === null ? "no content-type" : `content-type: ${received.slice(0, 100)}`}`,
      { details: { expected: "application/json", received } },
    );
  }
}

export class MethodNotAllowedError extends UserError {
  override name = "MethodNotAllowedError";
  /** `why`: the reason the method has no meaning there, when it is not obvious. */
  constructor(method: string, path: string, allowed: readonly string[], why?: string) {
    super(
      "method_not_allowed",
      405,
      `${method} is not allowed on ${path}${why ? ` (${why})` : ""}; use ${allowed.join(" or ")}`,
      {
        details: { allowed },
        headers: { allow: allowed.join(", ") },
      },
    );
  }
}
