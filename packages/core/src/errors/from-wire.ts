import { ForbiddenError, UnauthorizedError } from "../auth/auth-errors.ts";
import { DurableAgentsError, type ErrorOptions, RetryableError, UserError } from "./base.ts";
import { BadRequestError, ConflictError, NotFoundError } from "./http-errors.ts";

/** The wire shape every `DurableAgentsError` renders as (`toJSON`). */
export interface WireErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: Record<string, unknown>;
  };
}

/** True for a body in the wire shape of our errors. */
export function isWireErrorBody(body: unknown): body is WireErrorBody {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === "string" && typeof error.message === "string";
}

/**
 * An error that crossed a boundary as its status and body (a Durable Object RPC, a hook's
 * Response) as the typed error it was: the subclass its status names (400 BadRequestError,
 * 401 UnauthorizedError, 403 ForbiddenError, 404 NotFoundError, 409 ConflictError, 503
 * RetryableError; another 4xx a UserError, anything else a DurableAgentsError), so
 * `instanceof` works as for an error thrown locally. `fallback` is the code and message when
 * the body is not in the wire shape.
 */
export function errorFromWire(
  status: number,
  body: unknown,
  fallback: { readonly code: string; readonly message: string },
  extraDetails: Record<string, unknown> = {},
): DurableAgentsError {
  const wire = isWireErrorBody(body) ? body.error : undefined;
  const code = wire?.code ?? fallback.code;
  const message = wire?.message ?? fallback.message;
  const details = { ...extraDetails, ...wire?.details };
  const options: ErrorOptions = Object.keys(details).length > 0 ? { details } : {};
  switch (status) {
    case 400:
      return new BadRequestError(code, message, options);
    case 401:
      return new UnauthorizedError(code, message, options);
    case 403:
      return new ForbiddenError(code, message, options);
    case 404:
      return new NotFoundError(code, message, options);
    case 409:
      return new ConflictError(code, message, options);
    case 503:
      return new RetryableError(code, message, options);
    default:
      return status >= 400 && status < 500
        ? new UserError(code, status, message, options)
        : new DurableAgentsError(code, status, message, false, options);
  }
}
