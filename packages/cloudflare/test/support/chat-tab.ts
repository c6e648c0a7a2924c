import { env, SELF } from "cloudflare:test";
import { toChatHistory } from "@durable-agents/client/chat";
import { mintSessionToken } from "@durable-agents/core";
import { DefaultChatTransport, type UIMessage } from "ai";
import { NodeChat } from "../../../../test/support/node-chat.ts";
import { BASE, type SessionHandle } from "./session.ts";

/**
 * A `Chat` as a browser tab holds it: the stock transport on `/chat/:agent`, with the session's
 * token, starting from `messages` (a reload restores them from `history`).
 */
export async function tab(s: SessionHandle, messages?: UIMessage[]): Promise<NodeChat> {
  const token = await mintSessionToken(env.AUTH_SECRET, { agent: s.agent, session: s.session });
  const transport = new DefaultChatTransport<UIMessage>({
    api: `${BASE}/chat/${s.agent}`,
    headers: { authorization: `Bearer ${token}` },
    // workerd's global fetch would leave the test: the Worker under test answers instead.
    fetch: (input, init) => SELF.fetch(input instanceof URL ? input.href : input, init),
  });
  return new NodeChat({ id: s.session, transport, ...(messages ? { messages } : {}) });
}

/** The chat as a reload restores it: `GET .../chat-history`, through the client's `toChatHistory`. */
export async function history(s: SessionHandle): Promise<UIMessage[]> {
  const page = await (await s.get("chat-history")).json();
  return (await toChatHistory(page as never)).messages;
}

/** What the server holds: the shown user messages, oldest first. */
export async function userTexts(s: SessionHandle): Promise<string[]> {
  return (await s.messages())
    .filter((m) => m.role === "user")
    .map((m) => m.parts.map((p) => (p.type === "text" ? p.text : "")).join(""));
}
