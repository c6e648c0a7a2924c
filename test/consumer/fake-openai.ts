/**
 * A loopback stand-in for OpenAI's chat-completions API, just enough for the README agent:
 * streamed answers (`stream: true`), one tool call, usage. The first request of a
 * conversation gets a `to_fahrenheit` call (100 °C); once the tool's result is in the
 * messages, the answer quotes it. Like the real API it answers 400 to a tool whose
 * `parameters` is not a JSON Schema object, and 401 without a bearer key.
 * Wire format: https://platform.openai.com/docs/api-reference/chat/streaming
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeOpenAi {
  /** Base URL for `createOpenAI({ baseURL })`, ending in /v1. */
  readonly baseUrl: string;
  /** Request bodies received, in order. */
  readonly requests: readonly ChatRequest[];
  close(): Promise<void>;
}

interface ChatRequest {
  readonly model: string;
  readonly stream?: boolean;
  readonly messages: readonly { role: string; content?: unknown; tool_call_id?: string }[];
  readonly tools?: readonly { type: string; function: { name: string; parameters?: unknown } }[];
}

export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const requests: ChatRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const refuse = (status: number, message: string): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message, type: "invalid_request_error" } }));
    };
    if (req.method !== "POST" || req.url !== "/v1/chat/completions")
      return refuse(404, `unknown route ${req.method} ${req.url}`);
    if (!req.headers.authorization?.startsWith("Bearer "))
      return refuse(401, "You didn't provide an API key.");
    const body = JSON.parse(await readBody(req)) as ChatRequest;
    requests.push(body);
    for (const tool of body.tools ?? []) {
      const parameters = tool.function.parameters as { type?: unknown } | undefined;
      if (parameters?.type !== "object")
        return refuse(
          400,
          `Invalid schema for function '${tool.function.name}': schema must be a JSON Schema of 'type: "object"', got 'type: "${String(parameters?.type)}"'.`,
        );
    }
    if (body.stream !== true) return refuse(400, "this fake streams only (stream: true)");
    const toolResult = body.messages.find((m) => m.role === "tool");
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (choice: Record<string, unknown> | null, usage?: unknown): void => {
      const data = {
        id: `chatcmpl-${requests.length}`,
        object: "chat.completion.chunk",
        created: 0,
        model: body.model,
        choices: choice === null ? [] : [{ index: 0, ...choice }],
        ...(usage === undefined ? {} : { usage }),
      };
      res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    if (toolResult === undefined) {
      const call = { index: 0, id: "call_1", type: "function" };
      chunk({
        delta: {
          role: "assistant",
          tool_calls: [{ ...call, function: { name: "to_fahrenheit", arguments: "" } }],
        },
        finish_reason: null,
      });
      chunk({
        delta: { tool_calls: [{ index: 0, function: { arguments: '{"celsius":100}' } }] },
        finish_reason: null,
      });
      chunk({ delta: {}, finish_reason: "tool_calls" });
    } else {
      const { fahrenheit } = JSON.parse(String(toolResult.content)) as { fahrenheit: number };
      chunk({ delta: { role: "assistant", content: "100 °C is " }, finish_reason: null });
      chunk({ delta: { content: `${fahrenheit} °F.` }, finish_reason: null });
      chunk({ delta: {}, finish_reason: "stop" });
    }
    chunk(null, { prompt_tokens: 20, completion_tokens: 8, total_tokens: 28 });
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const part of req) text += String(part);
  return text;
}
