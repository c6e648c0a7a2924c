/**
 * One base error for the whole runtime. Every error carries a stable `code`,
 * the HTTP `status` it renders as, and whether retrying can help. A single
 * boundary (`http/error-response.ts`) turns it into a wire response.
 */
export interface ErrorOptions {
  readonly details?: Record<string, unknown>;
  readonly cause?: unknown;
  readonly headers?: Record<string, string>;
}

export class DurableAgentsError extends Error {
  override name = "DurableAgentsError";
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: string,
    status: number,
    message: string,
    retryable: boolean,
    options: ErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.details = options.details;
    this.headers = options.headers;
  }

  toJSON(): { error: { code: string; message: string; details?: Record<string, unknown> } } {
    const error: { code: string; message: string; details?: Record<string, unknown> } = {
      code: this.code,
      message: this.message,
    };
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}

/** The caller sent something wrong. Retrying the same request cannot help. */
export class UserError extends DurableAgentsError {
  override name = "UserError";
  constructor(code: string, status: number, message: string, options?: ErrorOptions) {
    super(code, status, message, false, options);
  }
}

/** Something failed on our side or downstream. Retrying may help. */
export class RetryableError extends DurableAgentsError {
  override name = "RetryableError";
  readonly retryAfterMs: number | undefined;
  constructor(
    code: string,
    message: string,
    options: ErrorOptions & { retryAfterMs?: number } = {},
  ) {
    super(code, 503, message, true, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Failed for good; the run that hit it ends with a terminal event. */
export class TerminalError extends DurableAgentsError {
  override name = "TerminalError";
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 500, message, false, options);
  }
}
