/**
 * The AI SDK's own `Chat` in Node, and the same conversation rebuilt from the ledger, for
 * the chat e2e tests. `NodeChat` is `AbstractChat` with a plain state (what `@ai-sdk/react`'s
 * `Chat` is with a React state): the transport is the caller's, with no custom options.
 */
import {
  AbstractChat,
  type ChatInit,
  type ChatState,
  type ChatStatus,
  parseJsonEventStream,
  readUIMessageStream,
  type UIMessage,
  type UIMessageChunk,
  uiMessageChunkSchema,
} from "ai";

class NodeChatState implements ChatState<UIMessage> {
  status: ChatStatus = "ready";
  error: Error | undefined = undefined;
  messages: UIMessage[];
  constructor(messages: UIMessage[]) {
    this.messages = messages;
  }
  pushMessage = (message: UIMessage) => {
    this.messages = [...this.messages, message];
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index: number, message: UIMessage) => {
    this.messages = this.messages.map((m, i) => (i === index ? message : m));
  };
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

export class NodeChat extends AbstractChat<UIMessage> {
  constructor(init: ChatInit<UIMessage>) {
    super({ ...init, state: new NodeChatState(init.messages ?? []) });
  }
}

/**
 * Lets a test cut every connection `fetch` has open, as a reload or a lost network would,
 * without calling the chat's `stop()`. Installed on `globalThis.fetch`, which the default
 * transport uses.
 */
export function cuttableFetch(): { cut(): void; restore(): void } {
  const real = globalThis.fetch;
  const open = new Set<AbortController>();
  globalThis.fetch = (input, init = {}) => {
    const controller = new AbortController();
    init.signal?.addEventListener("abort", () => controller.abort(init.signal?.reason));
    open.add(controller);
    return real(input, { ...init, signal: controller.signal });
  };
  return {
    cut() {
      for (const controller of open) controller.abort(new TypeError("fetch failed: network"));
      open.clear();
    },
    restore() {
      globalThis.fetch = real;
    },
  };
}

/** One UI message stream response, rebuilt with the SDK's reader. */
async function rebuild(response: Response): Promise<UIMessage | undefined> {
  const chunks = parseJsonEventStream({
    stream: response.body as ReadableStream<Uint8Array>,
    schema: uiMessageChunkSchema,
  }).pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        if (!chunk.success) throw chunk.error;
        controller.enqueue(chunk.value as UIMessageChunk);
      },
    }),
  );
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream: chunks })) last = message;
  return last;
}

interface ServerMessage {
  id: string;
  role: string;
  runId: string | null;
  parts: { type: string; text?: string }[];
}

/**
 * The conversation as the ledger has it, as UIMessages: each visible user message, then its
 * run replayed as a UI message stream from its start (`GET .../ui-stream?offset=`).
 */
export async function ledgerMessages(base: string, agent: string, session: string) {
  const root = `${base}/agents/${agent}/${session}`;
  const page = (await (await fetch(`${root}/messages?limit=200`)).json()) as {
    messages: ServerMessage[];
  };
  const out: UIMessage[] = [];
  for (const message of page.messages) {
    if (message.role !== "user") continue;
    const text = message.parts.map((p) => p.text ?? "").join("");
    out.push({ id: message.id, role: "user", parts: [{ type: "text", text }] });
    const seq = Number(message.id.slice(1));
    const offset = seq === 1 ? "-1" : String(seq - 1).padStart(16, "0");
    const response = await fetch(`${root}/ui-stream?offset=${offset}`);
    if (response.status !== 200) throw new Error(`replay of ${message.runId}: ${response.status}`);
    const assistant = await rebuild(response);
    if (assistant) out.push(assistant);
  }
  return out;
}

/**
 * Messages as compared: user messages by text (the ids are the client's own), assistant
 * messages whole. JSON drops undefined fields. A client-side tool's part leaves the approval
 * state on the client (addToolOutput), where a replay keeps the request's `{ id }`: dropped.
 */
export function comparable(messages: readonly UIMessage[]) {
  return messages.map((m) => {
    if (m.role === "user")
      return { role: "user", text: m.parts.map((p) => (p.type === "text" ? p.text : "")).join("") };
    const parts = (JSON.parse(JSON.stringify(m.parts)) as Record<string, unknown>[]).map((p) => {
      const approval = p.approval as { approved?: boolean } | undefined;
      if (approval && approval.approved === undefined && p.state === "output-available") {
        const { approval: _, ...rest } = p;
        return rest;
      }
      return p;
    });
    return { role: m.role, id: m.id, metadata: m.metadata, parts };
  });
}

export function textOf(message: UIMessage | undefined): string {
  return (message?.parts ?? []).map((p) => (p.type === "text" ? p.text : "")).join("");
}

export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
