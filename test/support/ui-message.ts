/**
 * UI message stream chunks as the `ai` package reads them, for the tests of core (Node) and
 * of the Cloudflare package (workerd) alike.
 */
import { readUIMessageStream, type UIMessage, type UIMessageChunk, uiMessageChunkSchema } from "ai";

/**
 * The assistant message the `ai` package's own reader (`readUIMessageStream`, failing on an
 * error chunk) builds from UI message stream `chunks`; undefined when they build none. With
 * `validate`, each chunk is first checked against the package's chunk schema (throws naming
 * the first that does not validate).
 */
export async function rebuildMessage(
  chunks: readonly unknown[],
  options: { validate?: boolean } = {},
): Promise<UIMessage | undefined> {
  if (options.validate === true) for (const chunk of chunks) await validateChunk(chunk);
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk as UIMessageChunk);
      controller.close();
    },
  });
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream, terminateOnError: true }))
    last = message;
  return last;
}

/** Throws naming `chunk` when it does not validate against the `ai` package's chunk schema. */
export async function validateChunk(chunk: unknown): Promise<void> {
  const schema = await uiMessageChunkSchema();
  if ((await schema.validate?.(chunk))?.success !== true)
    throw new Error(`invalid UI chunk: ${JSON.stringify(chunk)}`);
}

/** A UI message chunk as parsed from the stream: its `type` and whatever else it carries. */
export type ParsedChunk = { readonly type: string; readonly [field: string]: unknown };

/** The chunks of a UI message stream's SSE body: every `data: {...}` line parsed, `[DONE]` left out. */
export function uiChunks(body: string): ParsedChunk[] {
  return body
    .split("\n")
    .filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice(6)) as ParsedChunk);
}

/**
 * What the AI SDK's DefaultChatTransport POSTs (ai v7) when `useChat` sends `text` in chat
 * `id`: the `submit-message` trigger and one user message (`u1`) with that text.
 */
export function chatRequest(text: string, id = "chat1") {
  return {
    id,
    trigger: "submit-message",
    messages: [{ id: "u1", role: "user", parts: [{ type: "text", text }] }],
  };
}
