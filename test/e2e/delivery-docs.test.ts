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
import {
  getJson,
  isTerminal,
  readLedger,
  startQuickstart,
  tempState,
  waitForLedger,
} from "./e2e-support.ts";

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
    expect(blocks.length).toBe(6);
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

  it("AG-UI: HttpAgent.abortRun() only drops the connection; the run goes on to its end", async () => {
    const dropper = new HttpAgent({
      url: `${base}/agents/assistant/docs-agui-drop/agui`,
      threadId: "docs-agui-drop",
      initialMessages: [{ id: "u1", role: "user", content: "hello" }],
    });
    let aborted = false;
    await dropper.runAgent(
      {},
      {
        onTextMessageContentEvent: () => {
          if (aborted) return;
          aborted = true;
          dropper.abortRun();
        },
      },
    );
    expect(aborted).toBe(true);
    const ledger = await waitForLedger(base, "docs-agui-drop", (events) => events.some(isTerminal));
    expect(ledger.filter(isTerminal).map((e) => e.kind)).toEqual(["run.completed"]);
    expect(ledger.some((e) => e.kind === "run.interrupt_requested")).toBe(false);
  });

  it("AG-UI: a stop button interrupts the run on the server; resume[] cancelled starts a new one", async () => {
    const stop = () =>
      fetch(`${base}/agents/assistant/docs-agui-stop/interrupt`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason: "stopped by the user" }),
      });
    const stopper = new HttpAgent({
      url: `${base}/agents/assistant/docs-agui-stop/agui`,
      threadId: "docs-agui-stop",
      initialMessages: [{ id: "u1", role: "user", content: "hello" }],
    });
    let stopping: Promise<Response> | undefined;
    let stopped: { id: string }[] = [];
    await stopper.runAgent(
      {},
      {
        // the user presses stop while the answer streams
        onTextMessageContentEvent: () => {
          stopping ??= stop();
        },
        onRunFinishedEvent: (finished) => {
          if (finished.outcome === "interrupt") stopped = finished.interrupts;
        },
      },
    );
    // stopped: [{ id: "<runId>:interrupted", reason: "stopped by the user" }]
    stopper.addMessage({ id: "u2", role: "user", content: "What is 2+3?" });
    await stopper.runAgent({
      resume: stopped.map((i) => ({ interruptId: i.id, status: "cancelled" as const })),
    }); // a new run answers "What is 2+3?"; "resolved" would have continued the stopped one
    expect((await stopping)?.status).toBe(202);
    const ledger = await readLedger(base, "docs-agui-stop");
    const interrupted = ledger.find((e) => e.kind === "run.interrupted");
    expect(interrupted?.data).toEqual({ reason: "stopped by the user" });
    expect(stopped).toEqual([
      { id: `${interrupted?.runId}:interrupted`, reason: "stopped by the user" },
    ]);
    // Stopped mid-answer (the model call aborted): the partial text is kept, the rest never came.
    const said = ledger
      .filter((e) => e.kind === "model.delta" && e.runId === interrupted?.runId)
      .map((e) => (e.data as { text: string }).text)
      .join("");
    expect(said).toMatch(/^I am the /);
    expect(said).not.toMatch(/a real model\.$/);
    expect(stopper.messages.at(-1)?.content).toBe("2+3 = 5.");
    const runs = (await readLedger(base, "docs-agui-stop")).filter(
      (e) => e.kind === "run.completed",
    );
    // The stopped run stays interrupted; the new one completed.
    expect(runs).toHaveLength(1);
    expect(runs.map((e) => e.runId)).not.toContain(interrupted?.runId);
  });
});
