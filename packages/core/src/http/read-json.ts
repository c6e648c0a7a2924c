import {
  BadRequestError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from "../errors/http-errors.ts";
import { isJsonContentType } from "../streams/content-type.ts";
import {
  type AppSchema,
  check,
  type Schema,
  type SchemaIssue,
  summarize,
} from "../validation/check.ts";
import { assertJsonDepth } from "./json-depth.ts";

/**
 * The one reader of JSON request bodies (session commands, chat, AG-UI, `__ds` subscriptions;
 * the Worker's chat URL reads its id through it too). In order, before anything is stored:
 * 1. The media type is `application/json` (parameters such as `; charset=utf-8` allowed, any
 *    case), else 415 `unsupported_media_type`. Not `text/plain`, not a form: those are what a
 *    browser sends cross-site without a CORS preflight, so a cookie-authorized app would take
 *    a forged command. Not `application/*+json` either: those name formats with rules of
 *    their own, which these routes do not follow (the same rule as a Durable Stream's JSON
 *    mode, `isJsonContentType`).
 * 2. At most `maxBytes`, else 413, the stream cut as soon as the limit is passed.
 * 3. Not empty, not nested past `LIMITS.maxJsonDepth`, valid JSON: else 400.
 */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  return (await readJsonBytes(request, maxBytes)).value;
}

/** `readJson`, with the bytes it read (for a caller that forwards the body it looked into). */
export async function readJsonBytes(
  request: Request,
  maxBytes: number,
): Promise<{ value: unknown; bytes: Uint8Array }> {
  assertJsonMediaType(request);
  const bytes = await readBytes(request, maxBytes);
  const text = new TextDecoder().decode(bytes);
  if (text.trim() === "") {
    throw new BadRequestError(
      "empty_body",
      "the request body is empty; send a JSON object with content-type: application/json",
    );
  }
  assertJsonDepth(text);
  try {
    return { value: JSON.parse(text), bytes };
  } catch (error) {
    throw new BadRequestError(
      "malformed_json",
      `the request body is not valid JSON (${error instanceof Error ? error.message : "parse error"}); send a JSON object with content-type: application/json`,
    );
  }
}

/**
 * A JSON body that may be left out: `{}` when the request has none (no body, or
 * `content-length: 0`), else `readJson`'s, media type check included.
 */
export function readOptionalJson(request: Request, maxBytes: number): Promise<unknown> {
  const hasBody = request.body !== null && request.headers.get("content-length") !== "0";
  return hasBody ? readJson(request, maxBytes) : Promise.resolve({});
}

/** Step 1 of `readJson`: a 415 unless the request says its body is `application/json`. */
function assertJsonMediaType(request: Request): void {
  const received = request.headers.get("content-type");
  if (received === null || !isJsonContentType(received))
    throw new UnsupportedMediaTypeError("the request body", received);
}

/** The whole body, refused with a 413 as soon as it passes `maxBytes`. */
export async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) throw new PayloadTooLargeError("the request body", maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError("the request body", maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * Validates with a zod schema (`zod/mini` or classic); the 400 `invalid_request` names every
 * bad field so the caller can fix them all at once: "the start input is invalid: input.message:
 * Too small: expected string to have >=1 characters". `details.issues`: `{path, message}[]`.
 */
export function validate<T>(schema: Schema<T>, value: unknown, what: string): T;
export function validate<T>(schema: AppSchema<T>, value: unknown, what: string): T;
export function validate<T>(schema: AppSchema<T>, value: unknown, what: string): T {
  const result = check<T>(schema, value);
  if (result.success) return result.data;
  throw invalidInput(what, result.issues);
}

/** The 400 `invalid_request` of bad input: `what` and every issue (`details.issues`). */
export function invalidInput(what: string, issues: readonly SchemaIssue[]): BadRequestError {
  return new BadRequestError("invalid_request", `${what} is invalid: ${summarize(issues)}`, {
    details: { issues },
  });
}

/** Reads and validates a JSON body; an absent body is `{}` when `optional`. */
export async function readBody<T>(
  request: Request,
  schema: Schema<T>,
  what: string,
  options: { maxBytes: number; optional?: boolean },
): Promise<T> {
  const value = options.optional
    ? await readOptionalJson(request, options.maxBytes)
    : await readJson(request, options.maxBytes);
  return validate(schema, value, what);
}
