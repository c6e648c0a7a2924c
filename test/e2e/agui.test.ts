/**
 * AG-UI with the real `@ag-ui/client` `HttpAgent` against the quickstart under `wrangler dev`:
 * a run that waits on a sub-agent is one AG-UI run to its answer (a wait the server resolves
 * itself is no interrupt), and after an approval the resume run leaves the agent's `messages`
 * equal to the session's conversation (`GET .../messages`). Every stream passes `verifyEvents`.
 */
import { rmSync } from "node:fs";
import { type BaseEvent, HttpAgent, type Message, verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { getJson, startQuickstart, tempState } from "./e2e-support.ts";

const state = tempState("e2e-agui");
let dev: WranglerDev;
let counter = 0;

beforeAll(async () => {
  // Slow enough that the parent run is still waiting when its stream reaches `run.waiting`.
  dev = await startQuickstart(state, { SCRIPTED_DELAY_MS: "100" });
});
afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

interface Finished extends BaseEvent {
  outcome?: { type: string; interrupts?: { id: string; reason: string }[] };
}

function agentFor(content: string) {
  const threadId = `agui-${Date.now()}-${++counter}`;
  return new HttpAgent({
    url: `${dev.baseUrl}/agents/assistant/${threadId}/agui`,
    threadId,
    initialMessages: [{ id: "u1", role: "user", content }],
  });
}

/** One `runAgent`: its events, each valid (`EventSchemas`) and in order (`verifyEvents`). */
async function run(agent: HttpAgent, params: Parameters<HttpAgent["runAgent"]>[0] = {}) {
  const events: Finished[] = [];
  await agent.runAgent(params, { onEvent: ({ event }) => void events.push(event) });
  for (const event of events) expect(EventSchemas.safeParse(event).error).toBeUndefined();
  await lastValueFrom(from(events as never[]).pipe(verifyEvents(false), toArray()));
  return events;
}

interface StoredPart {
  type: string;
  text?: string;
  callId?: string;
  name?: string;
  status?: string;
  result?: unknown;
  error?: unknown;
}

/** What the two sides are compared on: ids, roles, text, tool calls and tool results. */
interface Seen {
  id: string;
  role: string;
  text: string;
  toolCalls?: string[];
  toolCallId?: string;
  result?: unknown;
}

/** The session's conversation (`GET .../messages`): one entry per tool result, as AG-UI has it. */
async function conversation(threadId: string): Promise<Seen[]> {
  const page = await getJson<{ messages: { id: string; role: string; parts: StoredPart[] }[] }>(
    `${dev.baseUrl}/agents/assistant/${threadId}/messages?limit=200`,
  );
  return page.messages.flatMap((m): Seen[] => {
    const text = m.parts.map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("");
    if (m.role === "tool")
      return m.parts.map((p) => ({
        id: `${m.id}:${p.callId}`,
        role: "tool",
        text: "",
        toolCallId: p.callId ?? "",
        result: p.status === "completed" ? p.result : (p.error ?? { status: p.status }),
      }));
    const calls = m.parts.flatMap((p) => (p.type === "tool-call" ? [p.callId ?? ""] : []));
    return [{ id: m.id, role: m.role, text, ...(calls.length ? { toolCalls: calls } : {}) }];
  });
}

function seen(messages: readonly Message[]): Seen[] {
  return messages.map((m): Seen => {
    const text = typeof m.content === "string" ? m.content : "";
    if (m.role === "tool")
      return {
        id: m.id,
        role: "tool",
        text: "",
        toolCallId: m.toolCallId,
        result: JSON.parse(text),
      };
    const calls = m.role === "assistant" ? (m.toolCalls ?? []).map((c) => c.id) : [];
    return { id: m.id, role: m.role, text, ...(calls.length ? { toolCalls: calls } : {}) };
  });
}

describe("AG-UI with HttpAgent", () => {
  it("a run that waits on a sub-agent is one AG-UI run to its answer, with no interrupt", async () => {
    const agent = agentFor("research durable objects");
    const events = await run(agent);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === "RUN_STARTED")).toHaveLength(1);
    expect(types.filter((t) => t === "RUN_FINISHED")).toHaveLength(1);
    expect(events.at(-1)?.outcome).toEqual({ type: "success" });
    expect(agent.messages.at(-1)?.content).toMatch(
      /^The researcher says: Research notes on durable objects: it is well documented/,
    );
    expect(seen(agent.messages)).toEqual(await conversation(agent.threadId));
  });

  it("after an approval, the resume run leaves the agent's messages equal to the session's", async () => {
    const agent = agentFor("clear my notes");
    const first = await run(agent);
    const interrupts = first.at(-1)?.outcome?.interrupts ?? [];
    expect(interrupts.map((i) => i.reason)).toEqual(["approval"]);
    const second = await run(agent, {
      resume: interrupts.map((i) => ({
        interruptId: i.id,
        status: "resolved" as const,
        payload: { approved: true },
      })),
    });
    expect(second.at(-1)?.outcome).toEqual({ type: "success" });
    expect(agent.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(agent.messages.at(-1)?.content).toBe("Deleted 0 note(s).");
    expect(seen(agent.messages)).toEqual(await conversation(agent.threadId));
  });
});
