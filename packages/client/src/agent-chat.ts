import {
  AbstractChat,
  type ChatState,
  type ChatStatus,
  DefaultChatTransport,
  isToolUIPart,
  parseJsonEventStream,
  readUIMessageStream,
  type UIMessage,
  type UIMessageChunk,
  uiMessageChunkSchema,
} from "ai";
import { DEFAULT_BASE_URL } from "./client.ts";

/**
 * A durable-agents session as the AI SDK's `Chat` (ai v7 `AbstractChat` with the stock
 * `DefaultChatTransport` on `POST /chat/:agent`): the chat id is the session id. On top of
 * the SDK's chat it loads the conversation from the ledger and resumes a running answer
 * (a reload), stops the run on the server at once, and sends the answers to tool calls as
 * soon as every call the run waits on has one. `useAgentChat` is its React face.
 */
export interface AgentChatOptions {
  readonly agent: string;
  /** The chat id: the session id. */
  readonly id: string;
  readonly baseUrl?: string;
  /** Sent with every request (e.g. `authorization: Bearer <session token>`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface AgentChatSnapshot {
  readonly messages: UIMessage[];
  readonly status: ChatStatus;
  readonly error: Error | undefined;
  /** False until the conversation was loaded from the server. */
  readonly loaded: boolean;
}

class ObservableChatState implements ChatState<UIMessage> {
  #status: ChatStatus = "ready";
  #error: Error | undefined = undefined;
  #messages: UIMessage[] = [];
  #snapshot: AgentChatSnapshot;
  #listeners = new Set<() => void>();
  loaded = false;
  constructor() {
    this.#snapshot = this.#take();
  }
  get status() {
    return this.#status;
  }
  set status(value: ChatStatus) {
    this.#status = value;
    this.changed();
  }
  get error() {
    return this.#error;
  }
  set error(value: Error | undefined) {
    this.#error = value;
    this.changed();
  }
  get messages() {
    return this.#messages;
  }
  set messages(value: UIMessage[]) {
    this.#messages = [...value];
    this.changed();
  }
  pushMessage = (message: UIMessage) => {
    this.messages = [...this.#messages, message];
  };
  popMessage = () => {
    this.messages = this.#messages.slice(0, -1);
  };
  replaceMessage = (index: number, message: UIMessage) => {
    this.messages = this.#messages.map((m, i) => (i === index ? structuredClone(message) : m));
  };
  snapshot = <T>(thing: T): T => structuredClone(thing);
  subscribe = (listener: () => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
  getSnapshot = () => this.#snapshot;
  changed() {
    this.#snapshot = this.#take();
    for (const listener of this.#listeners) listener();
  }
  #take(): AgentChatSnapshot {
    return {
      messages: this.#messages,
      status: this.#status,
      error: this.#error,
      loaded: this.loaded,
    };
  }
}

export class AgentChat extends AbstractChat<UIMessage> {
  readonly store: ObservableChatState;
  readonly #root: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #session: string;

  constructor(options: AgentChatOptions) {
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    const store = new ObservableChatState();
    const headers = options.headers ?? {};
    super({
      id: options.id,
      transport: new DefaultChatTransport({ api: `${base}/chat/${options.agent}`, headers }),
      state: store,
    });
    this.store = store;
    this.#headers = headers;
    this.#session = `${base}/agents/${options.agent}/${encodeURIComponent(options.id)}`;
    this.#root = base;
  }

  /** Loads the conversation from the ledger, then resumes a running answer (GET .../stream). */
  async load(): Promise<void> {
    this.store.messages = await loadChatMessages(this.#session, this.#headers);
    this.store.loaded = true;
    this.store.changed();
    await this.resumeStream();
  }

  /** Stops the answer on the server at once (`POST .../stop`), not only this client's stream. */
  stopRun = async (): Promise<void> => {
    await this.stop();
    const response = await fetch(`${this.#session}/stop`, {
      method: "POST",
      headers: this.#headers,
    });
    // 409: nothing was running any more (it ended, or the stream's cut already stopped it).
    if (!response.ok && response.status !== 409)
      throw new Error(`stop failed: ${response.status} ${await response.text()}`);
  };

  /** Answers an approval; once every waiting call is answered, the answers go to the server. */
  approve = async (answer: { id: string; approved: boolean; reason?: string }) => {
    await this.addToolApprovalResponse(answer);
    if (this.#allAnswered()) await this.sendMessage();
  };

  /** A client-side tool's output; once every waiting call is answered, it goes to the server. */
  answerTool = async (answer: { tool: string; toolCallId: string; output: unknown }) => {
    await this.addToolOutput(answer as Parameters<AbstractChat<UIMessage>["addToolOutput"]>[0]);
    if (this.#allAnswered()) await this.sendMessage();
  };

  /** The server this chat talks to. */
  get baseUrl(): string {
    return this.#root;
  }

  #allAnswered(): boolean {
    const last = this.lastMessage;
    if (last?.role !== "assistant") return false;
    // A client-side tool's call waits as `input-available` until its output is added.
    return !last.parts.some(
      (p) => isToolUIPart(p) && (p.state === "approval-requested" || p.state === "input-available"),
    );
  }
}

interface StoredMessage {
  id: string;
  role: string;
  runId: string | null;
  parts: { type: string; text?: string }[];
}

/**
 * The conversation of a session as UIMessages (its newest 200 messages, oldest first): each
 * visible user message, then its run's
 * answer rebuilt by the SDK from the run's UI message stream (`GET .../ui-stream?offset=`).
 * The active run (running, or waiting on a sub-agent or a Workflow) is left out: `resumeStream`
 * brings it. Which waits are active is the server's rule (core's ledger/wait-reasons.ts): a
 * waiting run is active when `GET .../ui-stream` streams it rather than answering 204.
 */
export async function loadChatMessages(
  sessionUrl: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<UIMessage[]> {
  const status = (await json(`${sessionUrl}/status`, headers)) as { status: string; runId: string };
  const page = (await json(`${sessionUrl}/messages?before=end&limit=200`, headers)) as {
    messages: StoredMessage[];
  };
  const active =
    status.status === "running" ||
    (status.status === "waiting" && (await streams(`${sessionUrl}/ui-stream`, headers)));
  const out: UIMessage[] = [];
  for (const message of page.messages) {
    if (message.role !== "user") continue;
    const text = message.parts.map((p) => p.text ?? "").join("");
    out.push({ id: message.id, role: "user", parts: [{ type: "text", text }] });
    if (message.runId === status.runId && active) continue;
    const seq = Number(message.id.slice(1));
    const offset = seq <= 1 ? "-1" : String(seq - 1).padStart(16, "0");
    const response = await fetch(`${sessionUrl}/ui-stream?offset=${offset}`, { headers });
    if (response.status !== 200 || !response.body) continue;
    const answer = await rebuild(response.body);
    if (answer) out.push(answer);
  }
  return out;
}

/** True when `url` answers with a stream (200), not 204; the stream is left at once. */
async function streams(url: string, headers: Readonly<Record<string, string>>): Promise<boolean> {
  const response = await fetch(url, { headers });
  await response.body?.cancel().catch(() => undefined);
  return response.status === 200;
}

async function json(url: string, headers: Readonly<Record<string, string>>): Promise<unknown> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function rebuild(body: ReadableStream<Uint8Array>): Promise<UIMessage | undefined> {
  const stream = parseJsonEventStream({ stream: body, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        if (chunk.success) controller.enqueue(chunk.value as UIMessageChunk);
      },
    }),
  );
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ stream })) last = message;
  return last;
}
