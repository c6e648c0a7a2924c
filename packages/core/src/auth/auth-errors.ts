import { type ErrorOptions, UserError } from "../errors/base.ts";

/** 401: no credentials, or credentials that do not verify. */
export class UnauthorizedError extends UserError {
  override name = "UnauthorizedError";
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, 401, message, {
      ...options,
      headers: { "www-authenticate": 'Bearer realm="durable-agents"', ...options.headers },
    });
  }
}

/** 403: valid credentials that do not open this resource. */
export class ForbiddenError extends UserError {
  override name = "ForbiddenError";
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(code, 403, message, options);
  }
}
