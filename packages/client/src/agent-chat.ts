import type { ChatHistoryPage } from "@durable-agents/core/types";
import {
  AbstractChat,
  type ChatState,
  type ChatStatus,
  DefaultChatTransport,
  isToolUIPart,
  readUIMessageStream,
  type UIMessage,
  type UIMessageChunk,
} from "ai";
import { type ChatHistoryQuery, readChatHistoryPage } from "./chat-history.ts";
import { DEFAULT_BASE_URL } from "./client.ts";
import { DurableAgentsClientError, errorFromResponse } from "./errors.ts";

export type { ChatHistoryQuery } from "./chat-history.ts";

/**
 * A durable-agents session as the AI SDK's `Chat` (ai v7 `AbstractChat` with the stock
 * `DefaultChatTransport` on `POST /chat/:agent`): the chat id is the session id. On top of
 * the SDK's chat it loads the conversation from the ledger and resumes a running answer
 * (a reload), stops the run on the server at once, and sends the answers to tool calls as
 * soon as every call the run waits on has one. A request the server refuses (a 4xx: another
 * tab's run is active, 409 `run_active`; a regenerate too large, 413) leaves `messages` as
 * they were before it (a new message taken back out, the answer a regenerate or the later
 * messages an edit cut off put back), and `error` is a `DurableAgentsClientError` whose
 * message is the server's, which says what to do.
 * `useAgentChat` is its React face.
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
      transport: new DefaultChatTransport({
        api: `${base}/chat/${options.agent}`,
        headers,
        // A refusal as the client's typed error, in the server's words, not the SDK's error
        // whose message is the response body (the error JSON).
        fetch: async (...args: Parameters<typeof fetch>) => {
          const response = await fetch(...args);
          if (!response.ok) throw await errorFromResponse(response);
          return response;
        },
      }),
      state: store,
    });
    this.store = store;
    // Refused (4xx): the server took nothing, so `messages` go back to what they were before
    // the request: a new message the SDK pushed is taken out, and the answer a regenerate (or
    // the later messages an edit) cut off before sending is put back.
    const undoRefused =
      <A extends unknown[]>(request: (...args: A) => Promise<void>) =>
      async (...args: A) => {
        const before = this.messages;
        await request(...args);
        const error = this.error;
        if (error instanceof DurableAgentsClientError && error.status >= 400 && error.status < 500)
          this.store.messages = before;
      };
    this.sendMessage = undoRefused(this.sendMessage);
    this.regenerate = undoRefused(this.regenerate);
    this.#headers = headers;
    this.#session = `${base}/agents/${options.agent}/${encodeURIComponent(options.id)}`;
    this.#root = base;
  }

  /**
   * Loads the conversation from the ledger in one request (`GET .../chat-history`, its newest
   * 100 turns, within 4 MiB), then, when a run is active, resumes its answer (`GET /chat/:agent/:id/stream`).
   * A run that ended between the two requests is in neither (the history left it to the
   * resume, which then answers 204): the history is loaded once more, and has it whole.
   */
  async load(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const history = await loadChatHistory(this.#session, this.#headers);
      this.store.messages = history.messages;
      this.store.loaded = true;
      this.store.changed();
      if (history.activeRunId === null) return;
      await this.resumeStream();
      if (this.messages.some((m) => m.id === history.activeRunId)) return;
    }
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

export interface ChatHistory {
  /** Oldest first: each turn's user messages, then its answer as the AI SDK builds it. */
  readonly messages: UIMessage[];
  /** The active run (running, or waiting on a sub-agent or a Workflow), left to `resumeStream`. */
  readonly activeRunId: string | null;
  /** `before` for the older turns; null when the first turn is loaded. */
  readonly prevCursor: string | null;
}

/**
 * A page of the conversation as UIMessages, in one request (`GET .../chat-history`), its newest
 * `query.limit` turns (1-100; default 100 here) before `query.before`: see
 * {@link toChatHistory}. Throws `DurableAgentsClientError` with the server's code on a non-2xx
 * answer. With a typed client, `toChatHistory(await session.chatHistory(query))` is the same.
 */
export async function loadChatHistory(
  sessionUrl: string,
  headers: Readonly<Record<string, string>> = {},
  query: ChatHistoryQuery = {},
): Promise<ChatHistory> {
  const ctx = {
    baseUrl: sessionUrl,
    headers,
    fetch: (...args: Parameters<typeof fetch>) => fetch(...args),
  };
  const page = await readChatHistoryPage(ctx, "", {
    limit: query.limit ?? 100,
    before: query.before,
  });
  return toChatHistory(page);
}

/**
 * A chat-history page (`session.chatHistory()`, `GET .../chat-history`) as UIMessages, oldest
 * first: each turn's user messages, then its run's answer, rebuilt by the AI SDK's
 * `readUIMessageStream` from the run's UI message stream chunks as the server projects them for
 * a live chat. The active run is left out (the server's rule, core's ledger/wait-reasons.ts):
 * `resumeStream` brings it. No request.
 */
export async function toChatHistory(page: ChatHistoryPage): Promise<ChatHistory> {
  const messages: UIMessage[] = [];
  for (const turn of page.turns) {
    messages.push(...(turn.messages as UIMessage[]));
    const answer =
      turn.chunks === null ? undefined : await rebuild(turn.runId, turn.chunks as UIMessageChunk[]);
    if (answer) messages.push(answer);
  }
  return { messages, activeRunId: page.activeRunId, prevCursor: page.prevCursor };
}

/** The newest turns of the conversation as UIMessages (see {@link loadChatHistory}). */
export async function loadChatMessages(
  sessionUrl: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<UIMessage[]> {
  return (await loadChatHistory(sessionUrl, headers)).messages;
}

/**
 * One run's answer: its UI message stream chunks through the AI SDK's own reader. The reader
 * builds into `answer` (it continues a given assistant message in place) and yields a copy at
 * each visible change; `answer` also keeps what came after the last one (the empty step a run
 * interrupted at a step's start leaves), as the live `Chat`'s own message object does.
 */
async function rebuild(
  runId: string,
  chunks: readonly UIMessageChunk[],
): Promise<UIMessage | undefined> {
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const answer: UIMessage = { id: runId, role: "assistant", parts: [] };
  let last: UIMessage | undefined;
  for await (const message of readUIMessageStream({ message: answer, stream })) last = message;
  // (Should the reader ever copy the message it continues, `answer` stays empty: its last copy.)
  return last && answer.parts.length > 0 ? structuredClone(answer) : last;
}
