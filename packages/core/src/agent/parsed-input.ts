/**
 * The key of a session's resume, retry and canResume of input already parsed by its command's
 * schema (`SessionRuntime[parsedInput]`): the door's entries (run-commands.ts, store-call.ts),
 * so a request is parsed once. Its own module, so the commands reach it without importing the
 * runtime (whose imports lead back to them); the package does not export it.
 */
export const parsedInput: unique symbol = Symbol("parsedInput");
