/**
 * docs/delivery.md's examples, run as tests against the quickstart under `wrangler dev`.
 * Every ```ts block of docs/delivery.md must appear verbatim (whitespace aside) in this file;
 * a block's imports may sit anywhere among this file's (which Biome sorts). `base` is the
 * server's URL; `Chat` is the docs' own, the AI SDK's `AbstractChat` with a plain state.
 */
import { readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { HttpAgent } from "@ag-ui/client";
import {
  AbstractChat,
  type ChatInit,
  type ChatState,
  type ChatStatus,
  DefaultChatTransport,
  lastAssistantMessageIsCompleteWithToolCalls,
  type UIMessage,
} from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textOf } from "../support/node-chat.ts";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { until } from "./chat-support.ts";
import { getJson, startQuickstart, tempState } from "./e2e-support.ts";

class PlainChatState implements ChatState<UIMessage> {
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

/** The AI SDK's Chat for Node: `AbstractChat` with a plain state. */
class Chat extends AbstractChat<UIMessage> {
  constructor(init: ChatInit<UIMessage>) {
    super({ ...init, state: new PlainChatState(init.messages ?? []) });
  }
}

const doc = readFileSync(resolve(import.meta.dirname, "../../docs/delivery.md"), "utf8");
const self = readFileSync(import.meta.filename, "utf8");
const state = tempState("e2e-delivery-docs");
let dev: WranglerDev;
let base = "";

beforeAll(async () => {
  dev = await startQuickstart(state);
  base = dev.baseUrl;
});
afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

describe("docs/delivery.md", () => {
  it("every ts example in docs/delivery.md is in this file", () => {
    const squash = (code: string) => code.replace(/\s+/g, "").replace(/,(?=[)\]}])/g, "");
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    expect(blocks.length).toBe(5);
    const imports = /^import [\s\S]*?from "[^"]+";\n/gm;
    for (const block of blocks) {
      for (const [statement] of block.matchAll(imports))
        expect(squash(self), statement).toContain(squash(statement));
      expect(squash(self), block).toContain(squash(block.replace(imports, "")));
    }
  });

  it("useChat: send, then approve a tool call", async () => {
    const chat = new Chat({
      id: "docs-chat",
      transport: new DefaultChatTransport({ api: `${base}/chat/assistant` }),
    });
    await chat.sendMessage({ text: "What is (2+3)*4?" });
    // chat.messages: [user, assistant]; the assistant message's id is the run id
    expect(chat.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    const status = await getJson<{ runId: string }>(`${base}/agents/assistant/docs-chat/status`);
    expect(chat.messages[1]?.id).toBe(status.runId);

    await chat.sendMessage({ text: "clear my notes" });
    const part = chat.lastMessage?.parts.find((p) => p.type === "tool-clear_notes");
    if (part?.type === "tool-clear_notes" && part.state === "approval-requested") {
      await chat.addToolApprovalResponse({ id: part.approval.id, approved: true });
      await chat.sendMessage(); // the run resumes; its rest streams into the same message
    }
    expect(textOf(chat.lastMessage)).toBe("This needs your approval. Deleted 0 note(s).");
  });

  it("useChat: a client-side tool answered in onToolCall, sent on automatically", async () => {
    const clock: Chat = new Chat({
      id: "docs-client-tool",
      transport: new DefaultChatTransport({ api: `${base}/chat/assistant` }),
      sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
      onToolCall: ({ toolCall }) => {
        if (toolCall.toolName !== "browser_time") return;
        const output = { time: "2026-11-29T18:00:00+01:00", timeZone: "Europe/Paris" };
        void clock.addToolOutput({ tool: "browser_time", toolCallId: toolCall.toolCallId, output });
      },
    });
    await clock.sendMessage({ text: "what time is it?" }); // the output is sent on by itself
    await until("the automatic send to finish", () =>
      clock.status === "ready" && clock.messages.length === 2 && textOf(clock.lastMessage) !== ""
        ? true
        : undefined,
    );
    expect(textOf(clock.lastMessage)).toBe(
      "Your browser says it is 2026-11-29T18:00:00+01:00 (Europe/Paris).",
    );
  });

  it("AG-UI: a run that waits ends outcome interrupt; resume[] continues it", async () => {
    const agent = new HttpAgent({
      url: `${base}/agents/assistant/docs-agui/agui`,
      threadId: "docs-agui",
      initialMessages: [{ id: "u1", role: "user", content: "clear my notes" }],
    });
    let interrupts: { id: string }[] = [];
    await agent.runAgent(
      {},
      {
        onRunFinishedEvent: (finished) => {
          if (finished.outcome === "interrupt") interrupts = finished.interrupts;
        },
      },
    );
    // one interrupt per call waiting for approval: { id, reason: "approval", toolCallId, responseSchema }
    await agent.runAgent({
      resume: interrupts.map((i) => ({
        interruptId: i.id,
        status: "resolved" as const,
        payload: { approved: true },
      })),
    });
    expect(interrupts).toHaveLength(1);
    expect(agent.messages.at(-1)?.content).toBe("Deleted 0 note(s).");
  });
});
