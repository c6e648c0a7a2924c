/**
 * The AI SDK's own `Chat` in Node, for the tests that drive a chat against a real server (the
 * client tests on the in-process handler, the e2e tests on `wrangler dev`). `NodeChat` is
 * `AbstractChat` with a plain state, which is what `@ai-sdk/react`'s `Chat` is with a React
 * state; `nodeChat` gives it the stock `DefaultChatTransport` on `api` and no other transport
 * option, as `useChat` users write it.
 */
import {
  AbstractChat,
  type ChatInit,
  type ChatState,
  type ChatStatus,
  DefaultChatTransport,
  type UIMessage,
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

/** A `NodeChat` with `new DefaultChatTransport({ api })`: `api` is `/chat/<agent>` or a session's `.../chat`. */
export function nodeChat(
  api: string,
  init: Omit<ChatInit<UIMessage>, "transport"> & { id: string },
): NodeChat {
  return new NodeChat({ ...init, transport: new DefaultChatTransport({ api }) });
}

export function textOf(message: UIMessage | undefined): string {
  return (message?.parts ?? []).map((p) => (p.type === "text" ? p.text : "")).join("");
}

/**
 * Messages as compared between a live chat and a restored one: user messages by text (the
 * ids are the client's own), assistant messages whole. JSON drops undefined fields. A
 * client-side tool's part leaves the approval state on the client (addToolOutput), where a
 * replay keeps the request's `{ id }`: dropped.
 */
export function comparable(messages: readonly UIMessage[]) {
  return messages.map((m) => {
    if (m.role === "user") return { role: "user", text: textOf(m) };
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
