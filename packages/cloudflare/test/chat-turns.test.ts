/**
 * Which turn a chat request acts on, with the AI SDK's own `Chat` and `DefaultChatTransport`
 * (ai v7) on `/chat/:agent` in workerd: `regenerate()` (which sends no `messageId`) and an edit
 * (`sendMessage({ text, messageId })`) act only on the turn the client's messages end at, and
 * are refused (409 `not_latest_run`) for any other, never aborting or replacing another run
 * (the outside review of 2026-11-30 saw both lose a turn). Also: an identical POST sent again
 * starts no second run, and a refused file part is named as the client sent it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { textOf } from "../../../test/support/node-chat.ts";
import { chatRequest, uiChunks } from "../../../test/support/ui-message.ts";
import { probe } from "./fixture/probe.ts";
import { tab, userTexts } from "./support/chat-tab.ts";
import { BASE, type SessionHandle, session } from "./support/session.ts";

afterEach(() => probe.reset());

const kinds = async (s: SessionHandle) => (await s.events()).map((e) => e.kind);

describe("chat turns with the real Chat", () => {
  it("regenerate() in a tab whose last turn is not the latest is 409 not_latest_run; the other tab's running turn goes on", async () => {
    const s = session("probe");
    const a = await tab(s);
    const b = await tab(s);
    await a.sendMessage({ text: "hello" });
    const first = (await s.status()).runId;
    expect(a.lastMessage?.id).toBe(first);

    probe.close("slow_echo");
    const bDone = b.sendMessage({ text: "long please" });
    const started = await s.waitFor((e) => e.kind === "tool.started" && e.runId !== first);

    await a.regenerate();
    expect(a.status).toBe("error");
    expect(a.error?.message).toContain("not_latest_run");
    expect(await s.status()).toMatchObject({ runId: started.runId, status: "running" });

    probe.open("slow_echo");
    await bDone;
    expect(b.status).toBe("ready");
    expect(b.lastMessage?.id).toBe(started.runId);
    expect(textOf(b.lastMessage)).toContain("All done");
    expect(await kinds(s)).not.toContain("run.aborted");
    expect((await s.events()).filter((e) => e.kind === "run.started")).toHaveLength(2);
    expect(await userTexts(s)).toEqual(["hello", "long please"]);
  });

  it("regenerate() of the tab's own latest turn, while it still runs, replaces it", async () => {
    const s = session("probe");
    const a = await tab(s);
    await a.sendMessage({ text: "hello" });
    const first = (await s.status()).runId;
    probe.close("slow_echo");
    const second = a.sendMessage({ text: "again" });
    await s.waitFor((e) => e.kind === "tool.started" && e.runId !== first);
    await a.stop();
    await second;
    probe.open("slow_echo");
    await a.regenerate();
    expect(a.status).toBe("ready");
    const events = await s.events();
    const starts = events.filter((e) => e.kind === "run.started");
    expect(starts).toHaveLength(3);
    expect(starts[2]?.data).toMatchObject({ replaces: starts[1]?.runId });
    expect(a.lastMessage?.id).toBe(starts[2]?.runId);
    expect(await userTexts(s)).toEqual(["hello", "again"]);
  });

  it("an edit of an older user message is 409 not_latest_run and changes nothing; an edit of the last one replaces its turn", async () => {
    const s = session("chatty");
    const chat = await tab(s);
    await chat.sendMessage({ text: "hello" });
    const hello = chat.messages[0]?.id as string;
    await chat.sendMessage({ text: "second" });
    const last = chat.messages[2]?.id as string;
    await chat.sendMessage({ text: "second, edited", messageId: last });
    expect(chat.status).toBe("ready");
    expect(await userTexts(s)).toEqual(["hello", "second, edited"]);
    const before = await s.events();

    await chat.sendMessage({ text: "hello, edited", messageId: hello });
    expect(chat.status).toBe("error");
    expect(chat.error?.message).toContain("not_latest_run");
    expect(chat.error?.message).toContain("fork");
    expect(await s.events()).toEqual(before);
    expect(await userTexts(s)).toEqual(["hello", "second, edited"]);
  });

  it("an identical POST sent again (a lost response, retried) gets the same run; nothing else starts", async () => {
    const s = session("chatty");
    const body = JSON.stringify(chatRequest("hello", s.session));
    const post = () =>
      s.fetch(`${BASE}/chat/chatty`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const first = await (await post()).text();
    const again = await (await post()).text();
    const starts = (await s.events()).filter((e) => e.kind === "run.started");
    expect(starts).toHaveLength(1);
    expect(first).toContain(`"messageId":"${starts[0]?.runId}"`);
    expect(uiChunks(again)).toEqual(uiChunks(first));
  });

  it("a refused file part is named as the client sent it (messages.<i>.parts.<j>.url)", async () => {
    const s = session("chatty");
    const chat = await tab(s);
    await chat.sendMessage({
      text: "look",
      files: [{ type: "file", mediaType: "image/png", url: "http://10.0.0.1/x" }],
    });
    expect(chat.status).toBe("error");
    const { error } = JSON.parse(chat.error?.message ?? "{}") as {
      error: { code: string; message: string };
    };
    expect(error.code).toBe("invalid_request");
    expect(error.message).toMatch(/^the chat request is invalid: messages\.0\.parts\.0\.url: /);
    expect(await s.events()).toEqual([]);
  });
});
