/**
 * A loopback fake of Anthropic's messages API (`POST /v1/messages`, streamed), for
 * `@ai-sdk/anthropic` with `baseURL: <fake>/v1`.
 *
 * It refuses, with status 400 and Anthropic's error body
 * `{ type: "error", error: { type: "invalid_request_error", message }, request_id }`, what the
 * real API refuses (wording as Anthropic answers it, from public reports of each error):
 * - a tool whose `input_schema` has no `"type": "object"` at its root
 *   ("tools.0.custom.input_schema.type: Field required", or "Input should be 'object'");
 * - `tool_use` blocks whose ids have no `tool_result` in the next message ("messages.N:
 *   `tool_use` ids were found without `tool_result` blocks immediately after: ...");
 * - a `tool_result` that answers no `tool_use` of the previous message;
 * - an empty message ("messages.N: all messages must have non-empty content except for the
 *   optional final assistant message") or an empty text block;
 * - an `image` block whose base64 source has a media type other than JPEG, PNG, GIF or WebP
 *   ("...source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or
 *   'image/webp'"), bytes that are no image ("Could not process image"), or bytes of another
 *   type than declared ("The image was specified using the image/png media type, but the image
 *   appears to be a image/jpeg image"); a `document` whose base64 source is not a PDF.
 * A 429 carries `retry-after` (seconds) and the `rate_limit_error` body. The stream has a
 * thinking block when the turn reasons, and usage reports `cache_read_input_tokens` and
 * `output_tokens_details.thinking_tokens`.
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

interface Block {
  type: string;
  text?: string;
  source?: { type: string; media_type?: string; data?: string; url?: string };
  id?: string;
  tool_use_id?: string;
  content?: string | { type: string; text?: string }[];
}
interface Message {
  role: string;
  content: string | Block[];
}

/** Cached tokens every answer reports, and thinking tokens of an answer that reasons. */
export const ANTHROPIC_FAKE_USAGE = { cacheReadTokens: 32, thinkingTokens: 9 };

let requestIds = 0;
const invalid = (message: string): WireError => ({
  status: 400,
  body: {
    type: "error",
    error: { type: "invalid_request_error", message },
    request_id: `req_fake${++requestIds}`,
  },
});

const blocks = (m: Message | undefined): Block[] =>
  m === undefined
    ? []
    : typeof m.content === "string"
      ? [{ type: "text", text: m.content }]
      : m.content;

function check(body: Record<string, unknown>): WireError | undefined {
  const tools = (body.tools ?? []) as { input_schema?: { type?: unknown } }[];
  for (const [i, tool] of tools.entries()) {
    const type = tool.input_schema?.type;
    if (type === undefined) return invalid(`tools.${i}.custom.input_schema.type: Field required`);
    if (type !== "object")
      return invalid(`tools.${i}.custom.input_schema.type: Input should be 'object'`);
  }
  const messages = (body.messages ?? []) as Message[];
  for (const [i, m] of messages.entries()) {
    const content = blocks(m);
    const finalAssistant = i === messages.length - 1 && m.role === "assistant";
    if (
      (content.length === 0 || (typeof m.content === "string" && m.content === "")) &&
      !finalAssistant
    )
      return invalid(
        `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
      );
    if (content.some((b) => b.type === "text" && !b.text))
      return invalid("messages: text content blocks must be non-empty");
    for (const [j, b] of content.entries()) {
      const refused = checkSource(b, `messages.${i}.content.${j}`);
      if (refused) return refused;
    }
    const uses = content.filter((b) => b.type === "tool_use").map((b) => b.id ?? "");
    if (uses.length > 0) {
      const answered = new Set(
        blocks(messages[i + 1])
          .filter((b) => b.type === "tool_result")
          .map((b) => b.tool_use_id),
      );
      const missing = uses.filter((id) => !answered.has(id));
      if (missing.length > 0)
        return invalid(
          `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
    }
    const previous = new Set(
      blocks(messages[i - 1])
        .filter((b) => b.type === "tool_use")
        .map((b) => b.id),
    );
    for (const [j, b] of content.entries()) {
      if (b.type === "tool_result" && !previous.has(b.tool_use_id))
        return invalid(
          `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${b.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
    }
  }
  return undefined;
}

const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/** An image or document block's source, as the messages API checks it. */
function checkSource(block: Block, at: string): WireError | undefined {
  const source = block.source;
  if ((block.type !== "image" && block.type !== "document") || source?.type !== "base64")
    return undefined;
  const data = source.data ?? "";
  if (block.type === "document")
    return source.media_type === "application/pdf" && BASE64.test(data) && isPdf(data)
      ? undefined
      : invalid(`${at}.document.source.base64.data: The PDF specified was not valid.`);
  const declared = source.media_type ?? "";
  if (!IMAGE_TYPES.includes(declared))
    return invalid(
      `${at}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
    );
  const actual = BASE64.test(data) ? sniffImage(data) : undefined;
  if (!actual) return invalid(`${at}.image.source.base64.data: Could not process image`);
  if (actual !== declared)
    return invalid(
      `${at}.image.source.base64.data: The image was specified using the ${declared} media type, but the image appears to be a ${actual} image`,
    );
  return undefined;
}

const textOf = (content: Block["content"]): string =>
  typeof content === "string" ? content : (content ?? []).map((b) => b.text ?? "").join("");

function conversation(body: Record<string, unknown>): FakeConversation {
  const messages = (body.messages ?? []) as Message[];
  const isUserText = (m: Message) => m.role === "user" && blocks(m).some((b) => b.type === "text");
  let last = messages.length - 1;
  while (last >= 0 && !isUserText(messages[last] as Message)) last--;
  const after = messages.slice(last + 1);
  return {
    lastUserText: blocks(messages[last])
      .filter((b) => b.type === "text")
      .map((b) => b.text ?? "")
      .join(""),
    turn: after.filter(
      (m) => m.role === "assistant" && blocks(m).some((b) => b.type === "tool_use"),
    ).length,
    toolResults: after.flatMap((m) =>
      blocks(m)
        .filter((b) => b.type === "tool_result")
        .map((b) => textOf(b.content)),
    ),
  };
}

let calls = 0;

function stream(turn: FakeTurn, body: Record<string, unknown>): string[] {
  const n = ++calls;
  const input = 30 + 10 * ((body.messages as unknown[]) ?? []).length;
  const events = [
    sse(
      {
        type: "message_start",
        message: {
          id: `msg_fake${n}`,
          type: "message",
          role: "assistant",
          model: body.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: input,
            output_tokens: 1,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: ANTHROPIC_FAKE_USAGE.cacheReadTokens,
          },
        },
      },
      "message_start",
    ),
  ];
  let index = 0;
  const block = (start: unknown, deltas: unknown[]) => {
    events.push(
      sse({ type: "content_block_start", index, content_block: start }, "content_block_start"),
    );
    for (const delta of deltas)
      events.push(sse({ type: "content_block_delta", index, delta }, "content_block_delta"));
    events.push(sse({ type: "content_block_stop", index }, "content_block_stop"));
    index++;
  };
  if (turn.reasoning) {
    // Thinking streams in pieces, as the real API sends it, then its signature.
    const pieces: unknown[] = [];
    for (let i = 0; i < turn.reasoning.length; i += 8)
      pieces.push({ type: "thinking_delta", thinking: turn.reasoning.slice(i, i + 8) });
    block({ type: "thinking", thinking: "", signature: "" }, [
      ...pieces,
      { type: "signature_delta", signature: `sig_fake${n}` },
    ]);
  }
  const text = turn.text ?? "";
  if (text) {
    const pieces: unknown[] = [];
    for (let i = 0; i < text.length; i += 8)
      pieces.push({ type: "text_delta", text: text.slice(i, i + 8) });
    block({ type: "text", text: "" }, pieces);
  }
  for (const [i, call] of (turn.toolCalls ?? []).entries())
    block({ type: "tool_use", id: `toolu_fake${n}_${i}`, name: call.name, input: {} }, [
      { type: "input_json_delta", partial_json: JSON.stringify(call.args) },
    ]);
  const thinking = turn.reasoning ? ANTHROPIC_FAKE_USAGE.thinkingTokens : 0;
  events.push(
    sse(
      {
        type: "message_delta",
        delta: {
          stop_reason: turn.toolCalls?.length ? "tool_use" : "end_turn",
          stop_sequence: null,
        },
        usage: {
          output_tokens: thinking + Math.ceil(text.length / 4) + 5,
          ...(thinking > 0 ? { output_tokens_details: { thinking_tokens: thinking } } : {}),
        },
      },
      "message_delta",
    ),
    sse({ type: "message_stop" }, "message_stop"),
  );
  return events;
}

export const anthropicWire: ProviderWire = {
  path: "/v1/messages",
  check,
  conversation,
  stream,
  rateLimited: (seconds) => ({
    status: 429,
    headers: { "retry-after": String(seconds) },
    body: {
      type: "error",
      error: {
        type: "rate_limit_error",
        message:
          "This request would exceed the rate limit for your organization of 50 requests per minute. Please try again later.",
      },
      request_id: `req_fake${++requestIds}`,
    },
  }),
};

/** The Anthropic fake on a free loopback port; give `@ai-sdk/anthropic` `baseURL: <baseUrl>/v1`. */
export function startAnthropicFake(): Promise<FakeProvider> {
  return startFake(anthropicWire);
}
