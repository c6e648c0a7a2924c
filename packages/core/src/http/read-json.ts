import { BadRequestError, PayloadTooLargeError } from "../errors/http-errors.ts";
import { type AppSchema, check, type Schema } from "../validation/check.ts";
import { assertJsonDepth } from "./json-depth.ts";

/**
 * Reads a JSON body, refusing more than `maxBytes` without buffering it all:
 * the stream is cut as soon as the limit is passed.
 */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const text = new TextDecoder().decode(await readBytes(request, maxBytes));
  if (text.trim() === "") {
    throw new BadRequestError("empty_body", "the request body is empty; send a JSON object");
  }
  assertJsonDepth(text);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(
      "malformed_json",
      `the request body is not valid JSON (${error instanceof Error ? error.message : "parse error"}); send a JSON object with content-type application/json`,
    );
  }
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
  throw new BadRequestError("invalid_request", `${what} is invalid: ${result.summary}`, {
    details: { issues: result.issues },
  });
}

/** Reads and validates a JSON body; an absent body is `{}` when `optional`. */
export async function readBody<T>(
  request: Request,
  schema: Schema<T>,
  what: string,
  options: { maxBytes: number; optional?: boolean },
): Promise<T> {
  const hasBody = request.body !== null && request.headers.get("content-length") !== "0";
  const value = options.optional && !hasBody ? {} : await readJson(request, options.maxBytes);
  return validate(schema, value, what);
}
