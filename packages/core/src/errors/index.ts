export {
  DurableAgentsError,
  type ErrorOptions,
  RetryableError,
  TerminalError,
  UserError,
} from "./base.ts";
export { errorFromWire, isWireErrorBody, type WireErrorBody } from "./from-wire.ts";
export {
  BadRequestError,
  ConflictError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from "./http-errors.ts";
export { quoteInput } from "./quote-input.ts";
