export {
  DurableAgentsError,
  type ErrorOptions,
  RetryableError,
  TerminalError,
  UserError,
} from "./base.ts";
export {
  BadRequestError,
  ConflictError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
} from "./http-errors.ts";
