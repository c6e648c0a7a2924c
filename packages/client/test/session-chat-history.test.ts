/**
 * `session.chatHistory()` on the typed client, against the real handler: the chat-history page
 * through the client's own fetch and headers, paged back with `before`, and the same
 * UIMessages as the AI SDK's live `Chat` once `toChatHistory` rebuilds it (the rebuild
 * `loadChatHistory` uses); a refused page and an abort are typed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { comparable, nodeChat } from "../../../test/support/node-chat.ts";
import { loadChatHistory, toChatHistory } from "../src/agent-chat.ts";
import { createClient } from "../src/index.ts";
import type { RealServer } from "./real-server.ts";
import { start } from "./support.ts";

let server: RealServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A client whose requests are recorded: the method must go through the client's fetch. */
function recordingClient(real: RealServer) {
  const requests: { url: string; authorization: string | null }[] = [];
  const client = createClient({
    baseUrl: real.url,
    headers: { authorization: "Bearer test-token" },
    fetch: (input, init) => {
      requests.push({
        url: String(input),
        authorization: new Headers(init?.headers).get("authorization"),
      });
      return fetch(input, init);
    },
  });
  return { client, requests };
}

describe("session.chatHistory()", () => {
  it("pages the conversation back with before, and rebuilds to the live chat's UIMessages", async () => {
    server = await start();
    const real = server;
    const session = "paged";
    const chat = nodeChat(`${real.url}/agents/assistant/${session}/chat`, { id: session });
    for (let i = 0; i < 3; i++) await chat.sendMessage({ text: `What is 2+3? (${i})` });
    const { client, requests } = recordingClient(real);
    const handle = client.session("assistant", session);

    const newest = await handle.chatHistory({ limit: 2 });
    expect(newest.turns.map((t) => t.messages[0]?.parts)).toEqual([
      [{ type: "text", text: "What is 2+3? (1)" }],
      [{ type: "text", text: "What is 2+3? (2)" }],
    ]);
    expect(newest.activeRunId).toBeNull();
    expect(newest.prevCursor).toEqual(expect.any(String));
    const oldest = await handle.chatHistory({ before: newest.prevCursor as string });
    expect(oldest.turns).toHaveLength(1);
    expect(oldest.prevCursor).toBeNull();

    // One request per page, through the client's fetch with its headers.
    expect(requests.map((r) => new URL(r.url).pathname + new URL(r.url).search)).toEqual([
      `/agents/assistant/${session}/chat-history?limit=2`,
      `/agents/assistant/${session}/chat-history?before=${newest.prevCursor}`,
    ]);
    expect(requests.every((r) => r.authorization === "Bearer test-token")).toBe(true);

    // Rebuilt with the AI SDK's reader, the pages are the live chat, oldest first.
    const pages = [await toChatHistory(oldest), await toChatHistory(newest)];
    expect(pages.map((p) => p.prevCursor)).toEqual([null, newest.prevCursor]);
    const restored = pages.flatMap((p) => p.messages);
    expect(restored).toHaveLength(6);
    expect(comparable(restored)).toEqual(comparable(chat.messages));
    // The free helper is the same request and the same rebuild.
    const helper = await loadChatHistory(`${real.url}/agents/assistant/${session}`);
    expect(helper).toEqual(await toChatHistory(await handle.chatHistory({ limit: 100 })));
  });

  it("an empty session is an empty page; a refused query and an abort reject, typed", async () => {
    server = await start();
    const handle = createClient({ baseUrl: server.url }).session("assistant", "nothing-yet");
    expect(await handle.chatHistory()).toEqual({ turns: [], activeRunId: null, prevCursor: null });
    await expect(handle.chatHistory({ limit: 101 })).rejects.toMatchObject({
      name: "DurableAgentsClientError",
      status: 400,
      code: "invalid_request",
    });
    await expect(handle.chatHistory({ before: "yesterday" })).rejects.toMatchObject({
      status: 400,
      code: "invalid_request",
    });
    const reason = new Error("the user left");
    await expect(handle.chatHistory({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});
