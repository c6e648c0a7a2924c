import { readUIMessageStream, type UIMessage, type UIMessageChunk, uiMessageChunkSchema } from "ai";

/** Rebuilds the assistant message from UI chunks with the `ai` package's own reader. */
export async function rebuildMessage(chunks: readonly unknown[]): Promise<UIMessage | undefined> {
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

/** Fails with the chunk when it does not validate against the `ai` package's chunk schema. */
export async function validateChunk(chunk: unknown): Promise<void> {
  const schema = await uiMessageChunkSchema();
  const result = await schema.validate?.(chunk);
  if (!result?.success) throw new Error(`invalid UI chunk: ${JSON.stringify(chunk)}`);
}
