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
