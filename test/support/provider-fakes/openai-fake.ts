/**
 * A loopback fake of OpenAI's chat completions API (`POST /v1/chat/completions`, streamed),
 * for `@ai-sdk/openai`'s `.chat()` models with `baseURL: <fake>/v1`.
 *
 * It refuses, with status 400 and OpenAI's error body `{ error: { message, type, param, code } }`,
 * what the real API refuses (wording as OpenAI answers it, from public reports of each error):
 * - function parameters whose root is not `"type": "object"`:
 *   "Invalid schema for function 'x': schema must be a JSON Schema of 'type: "object"', got
 *   'type: "None"'." (`code: "invalid_function_parameters"`);
 * - an assistant message with `tool_calls` not followed by a tool message for each id:
 *   "An assistant message with 'tool_calls' must be followed by tool messages responding to
 *   each 'tool_call_id'. The following tool_call_ids did not have response messages: ...";
 * - a tool message that answers no preceding tool call;
 * - an empty message: an empty content array (`code: "empty_array"`), or an assistant message
 *   with neither content nor tool calls;
 * - an `image_url` part whose url is neither an http(s) URL nor a base64 data URL of an image
 *   type ("Invalid 'messages[0].content[1].image_url'. Expected a base64-encoded data URL with an
 *   image MIME type ...", `code: "invalid_image_url"`), or whose bytes are not PNG, JPEG, GIF or
 *   WebP ("You uploaded an unsupported image. ...", `code: "invalid_image_format"`);
 * - a `file` part whose `file_data` is not a base64 PDF data URL (the chat API reads PDFs only).
 * It answers 401 with `type: "invalid_request_error"`, as the real API does, to a request with
 * no `Authorization: Bearer` key ("You didn't provide an API key. …") and to a key that is
 * empty or the text of a missing variable (`undefined`, `null`: what `String(env.OPENAI_API_KEY)`
 * gives when the secret is not set), with "Incorrect API key provided: …" and
 * `code: "invalid_api_key"`. Any other key is accepted. A path other than
 * `/v1/chat/completions` (a baseURL without `/v1`) gets a 404.
 * A 429 carries `retry-after` (seconds) and OpenAI's `rate_limit_exceeded` body. Usage
 * reports `prompt_tokens_details.cached_tokens` and `completion_tokens_details.reasoning_tokens`.
 */
import {
  BASE64,
  type FakeConversation,
  type FakeProvider,
  type FakeTurn,
  isPdf,
  type ProviderWire,
  sniffImage,
  sse,
  startFake,
  type WireError,
} from "./fake-server.ts";

interface ContentPart {
  type: string;
  text?: string;
  image_url?: { url?: string };
  file?: { file_data?: string; filename?: string };
}

interface ChatMessage {
  role: string;
  content?: string | ContentPart[] | null;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** Cached and reasoning tokens every answer reports. */
export const OPENAI_FAKE_USAGE = { cachedTokens: 24, reasoningTokens: 6 };

const invalid = (message: string, param: string | null, code: string | null): WireError => ({
  status: 400,
  body: { error: { message, type: "invalid_request_error", param, code } },
});

/** The real API's 401s: no key at all, or a key that cannot be one. */
function checkKey(authorization: string | undefined): WireError | undefined {
  const key = /^Bearer (.*)$/i.exec(authorization ?? "")?.[1];
  if (key === undefined)
    return {
      status: 401,
      body: {
        error: {
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      },
    };
  if (["", "undefined", "null"].includes(key.trim()))
    return {
      status: 401,
      body: {
        error: {
          message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      },
    };
  return undefined;
}

function check(
  body: Record<string, unknown>,
  headers: { authorization?: string | undefined },
): WireError | undefined {
  const unauthorized = checkKey(headers.authorization);
  if (unauthorized) return unauthorized;
  const tools = (body.tools ?? []) as {
    function?: { name?: string; parameters?: { type?: unknown } };
  }[];
  for (const [i, tool] of tools.entries()) {
    const type = tool.function?.parameters?.type;
    if (type !== "object")
      return invalid(
        `Invalid schema for function '${tool.function?.name}': schema must be a JSON Schema of 'type: "object"', got 'type: "${type === undefined ? "None" : String(type)}'.`,
        `tools[${i}].function.parameters`,
        "invalid_function_parameters",
      );
  }
  const messages = (body.messages ?? []) as ChatMessage[];
  if (messages.length === 0)
    return invalid(
      "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      "messages",
      "empty_array",
    );
  for (const [i, m] of messages.entries()) {
    if (Array.isArray(m.content) && m.content.length === 0)
      return invalid(
        `Invalid 'messages[${i}].content': array too short. Expected an array with minimum length 1, but got an empty array instead.`,
        `messages.[${i}].content`,
        "empty_array",
      );
    if (Array.isArray(m.content))
      for (const [j, part] of m.content.entries()) {
        const refused = checkPart(part, `messages[${i}].content[${j}]`);
        if (refused) return refused;
      }
    if (m.role === "assistant" && m.content == null && !m.tool_calls?.length)
      return invalid(
        "Invalid value for 'content': expected a string, got null.",
        `messages.[${i}].content`,
        null,
      );
    if (m.role === "tool") {
      let j = i - 1;
      while (j >= 0 && messages[j]?.role === "tool") j--;
      const ids = messages[j]?.tool_calls?.map((c) => c.id) ?? [];
      if (!ids.includes(m.tool_call_id ?? ""))
        return invalid(
          "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          `messages.[${i}].role`,
          null,
        );
    }
    if (m.role === "assistant" && m.tool_calls?.length) {
      const answered = new Set<string>();
      for (let j = i + 1; messages[j]?.role === "tool"; j++)
        answered.add(messages[j]?.tool_call_id ?? "");
      const missing = m.tool_calls.map((c) => c.id).filter((id) => !answered.has(id));
      if (missing.length > 0)
        return invalid(
          `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(", ")}`,
          `messages.[${i + 1}].role`,
          null,
        );
    }
  }
  return undefined;
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** An image or file part, as the chat completions API checks it. */
function checkPart(part: ContentPart, at: string): WireError | undefined {
  if (part.type === "image_url") {
    const url = part.image_url?.url ?? "";
    if (/^https?:\/\//.test(url)) return undefined;
    const data = DATA_URL.exec(url);
    if (!data?.[1]?.startsWith("image/") || !BASE64.test(data[2] ?? ""))
      return invalid(
        `Invalid '${at}.image_url'. Expected a base64-encoded data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got ${data ? `unsupported MIME type '${data[1]}'` : "a value that is not a URL"}.`,
        `${at}.image_url`,
        "invalid_image_url",
      );
    if (!sniffImage(data[2] ?? ""))
      return invalid(
        "You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
        null,
        "invalid_image_format",
      );
  }
  if (part.type === "file") {
    const data = DATA_URL.exec(part.file?.file_data ?? "");
    if (data?.[1] !== "application/pdf" || !BASE64.test(data[2] ?? "") || !isPdf(data[2] ?? ""))
      return invalid(
        `Invalid '${at}.file.file_data'. Expected a base64-encoded data URL of a PDF file.`,
        `${at}.file.file_data`,
        "invalid_value",
      );
  }
  return undefined;
}

function textOf(content: ChatMessage["content"]): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((p) => p.text ?? "").join("");
}

function conversation(body: Record<string, unknown>): FakeConversation {
  const messages = (body.messages ?? []) as ChatMessage[];
  const last = messages.map((m) => m.role).lastIndexOf("user");
  const after = messages.slice(last + 1);
  return {
    lastUserText: textOf(messages[last]?.content),
    turn: after.filter((m) => m.role === "assistant" && (m.tool_calls?.length ?? 0) > 0).length,
    toolResults: after.filter((m) => m.role === "tool").map((m) => textOf(m.content)),
  };
}

let calls = 0;

function stream(turn: FakeTurn, body: Record<string, unknown>): string[] {
  const id = `chatcmpl-fake${++calls}`;
  const base = { id, object: "chat.completion.chunk", created: 1_700_000_000, model: body.model };
  const chunk = (delta: unknown, finish: string | null = null) =>
    sse({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] });
  const events = [chunk({ role: "assistant", content: "" })];
  const text = turn.text ?? "";
  for (let i = 0; i < text.length; i += 8) events.push(chunk({ content: text.slice(i, i + 8) }));
  for (const [index, call] of (turn.toolCalls ?? []).entries()) {
    const callId = `call_${calls}_${index}`;
    events.push(
      chunk({
        tool_calls: [
          { index, id: callId, type: "function", function: { name: call.name, arguments: "" } },
        ],
      }),
      chunk({ tool_calls: [{ index, function: { arguments: JSON.stringify(call.args) } }] }),
    );
  }
  events.push(chunk({}, turn.toolCalls?.length ? "tool_calls" : "stop"));
  const prompt = 40 + 10 * ((body.messages as unknown[]) ?? []).length;
  const completion = OPENAI_FAKE_USAGE.reasoningTokens + Math.ceil(text.length / 4) + 5;
  events.push(
    sse({
      ...base,
      choices: [],
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        prompt_tokens_details: { cached_tokens: OPENAI_FAKE_USAGE.cachedTokens },
        completion_tokens_details: { reasoning_tokens: OPENAI_FAKE_USAGE.reasoningTokens },
      },
    }),
    sse("[DONE]"),
  );
  return events;
}

export const openaiWire: ProviderWire = {
  path: "/v1/chat/completions",
  check,
  conversation,
  stream,
  rateLimited: (seconds) => ({
    status: 429,
    headers: { "retry-after": String(seconds) },
    body: {
      error: {
        message: `Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${seconds}s.`,
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    },
  }),
};

/** The OpenAI fake on a free loopback port; give `@ai-sdk/openai` `baseURL: <baseUrl>/v1`. */
export function startOpenAIFake(): Promise<FakeProvider> {
  return startFake(openaiWire);
}
