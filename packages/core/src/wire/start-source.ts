import { BadRequestError } from "../errors/http-errors.ts";
import type { SchemaIssue } from "../validation/check.ts";

/**
 * A wire format's request that starts a run (the AI SDK chat request, AG-UI's `RunAgentInput`)
 * is read into the `start` command's input (`{ input: { message, files? } }`), which the command
 * validates. Its refusals name the start's fields (`input.message`, `input.files.<n>.data`); the
 * client sent neither. Each format declares here only how it names those fields
 * ({@link RequestTerms}); the rewrite of a refusal into the request's terms is this one.
 */

/**
 * Where the start's fields sit in the request: the index of the user message in `messages`,
 * and the index in its content of the part each of `input.files` came from.
 */
export interface StartSource {
  readonly messageIndex: number;
  readonly fileParts: readonly number[];
}

/** How a wire format names, in its own request, what the start reads from it. */
export interface RequestTerms {
  /** The request, as errors name it: "the chat request", "the RunAgentInput". */
  readonly what: string;
  /** The path of the user message's content: `messages.<i>.parts`, `messages.<i>.content`. */
  readonly content: (messageIndex: number) => string;
  /** A start file's field (`data`, `image`, `mediaType`) → its part's field (`url`, `source.value`). */
  readonly fileFields: Readonly<Record<string, string>>;
}

/**
 * Where a field of the start (`input.message`, `input.files.<n>.data`, ...) is in the request
 * (`messages.<i>.parts`, `messages.<i>.content.<j>.source.value`, ...). The message is the
 * user message's text parts, so `input.message` and `input.files` are its content; a path the
 * request has no source for is returned as it is.
 */
export function requestPath(terms: RequestTerms, source: StartSource, startPath: string): string {
  const content = terms.content(source.messageIndex);
  if (startPath === "input.message" || startPath === "input.files") return content;
  const file = /^input\.files\.(\d+)(?:\.(\w+))?(.*)$/.exec(startPath);
  const part = file ? source.fileParts[Number(file[1])] : undefined;
  if (!file || part === undefined) return startPath;
  const field = file[2] === undefined ? "" : `.${terms.fileFields[file[2]] ?? file[2]}`;
  return `${content}.${part}${field}${file[3] ?? ""}`;
}

/** A 400 `invalid_request` naming the request's own fields: `<what> is invalid: <path>: <message>; ...`. */
export function invalidRequest(terms: RequestTerms, issues: SchemaIssue[]): BadRequestError {
  return new BadRequestError(
    "invalid_request",
    `${terms.what} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    { details: { issues } },
  );
}

/**
 * Runs `start` (the start command the request became); its 400 with `details.issues` is thrown
 * again naming the request's fields (requestPath). Any other error passes unchanged.
 */
export async function inRequestTerms<T>(
  terms: RequestTerms,
  source: StartSource,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const issues = error instanceof BadRequestError ? error.details?.issues : undefined;
    if (!Array.isArray(issues)) throw error;
    throw invalidRequest(
      terms,
      (issues as SchemaIssue[]).map((i) => ({
        path: requestPath(terms, source, i.path),
        message: i.message,
      })),
    );
  }
}
