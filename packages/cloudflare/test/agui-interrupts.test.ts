import { HttpAgent, verifyEvents } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { from, lastValueFrom, toArray } from "rxjs";
import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { session } from "./support/session.ts";
import { readSse } from "./support/sse.ts";

afterEach(() => probe.reset());

interface Finished {
  type: string;
  outcome?: {
    type: string;
    interrupts?: { id: string; reason: string; toolCallId?: string; responseSchema?: object }[];
  };
}

function agentFor(s: ReturnType<typeof session>) {
  return new HttpAgent({
    url: s.url("agui"),
    threadId: s.session,
    fetch: (url, init) => s.fetch(url, init),
    initialMessages: [{ id: "u1", role: "user", content: "wire the money" }],
  });
}

async function run(agent: HttpAgent, params: Parameters<HttpAgent["runAgent"]>[0] = {}) {
  const events: Finished[] = [];
  await agent.runAgent(params, { onEvent: ({ event }) => void events.push(event as Finished) });
  for (const event of events) expect(EventSchemas.safeParse(event).error).toBeUndefined();
  await lastValueFrom(from(events as never[]).pipe(verifyEvents(false), toArray()));
  return events;
}

describe("AG-UI interrupts, the protocol's way (HttpAgent)", () => {
  it("a run that waits for approvals ends outcome: interrupt; a run with resume[] completes it", async () => {
    const s = session("approver");
    const agent = agentFor(s);
    const first = await run(agent);
    const finished = first.at(-1);
    expect(finished?.type).toBe("RUN_FINISHED");
    expect(finished?.outcome?.type).toBe("interrupt");
    const interrupts = finished?.outcome?.interrupts ?? [];
    expect(interrupts).toHaveLength(2);
    for (const interrupt of interrupts) {
      expect(interrupt).toMatchObject({ reason: "approval", toolCallId: interrupt.id });
      expect(interrupt.responseSchema).toMatchObject({ type: "object" });
    }
    expect((await s.status()).status).toBe("waiting");
    // Without answers, HttpAgent itself refuses to run on.
    await expect(agent.runAgent({})).rejects.toThrow(/pending interrupt/);

    const [approve, deny] = interrupts;
    const second = await run(agent, {
      resume: [
        { interruptId: approve!.id, status: "resolved", payload: { approved: true } },
        { interruptId: deny!.id, status: "cancelled" },
      ],
    });
    expect(second[0]?.type).toBe("RUN_STARTED");
    expect(second.at(-1)?.outcome?.type).toBe("success");
    expect(second.map((e) => e.type)).toContain("TOOL_CALL_RESULT");
    expect((await s.status()).status).toBe("completed");
    expect(agent.messages.at(-1)?.content).toMatch(/^Results: /);
    expect(agent.state).toMatchObject({ status: "completed" });
    const results = (await s.events()).filter(
      (e) => e.kind === "tool.completed" || e.kind === "tool.failed",
    );
    expect(results.map((e) => [e.kind, (e.data as { callId: string }).callId])).toEqual([
      ["tool.failed", deny!.id],
      ["tool.completed", approve!.id],
    ]);
  });

  it("every AG-UI stream of the session, replayed, passes verifyEvents", async () => {
    const s = session("approver");
    const agent = agentFor(s);
    const first = await run(agent);
    const ids = first.at(-1)?.outcome?.interrupts?.map((i) => i.id) ?? [];
    await run(agent, {
      resume: ids.map((id) => ({ interruptId: id, status: "resolved" as const })),
    });
    const all = await readSse(
      s.fetch,
      s.url("agui"),
      (e) =>
        e.data.type === "RUN_FINISHED" &&
        (e.data as unknown as Finished).outcome?.type === "success",
    );
    const events = all.map((f) => f.data);
    await lastValueFrom(from(events as never[]).pipe(verifyEvents(false), toArray()));
    const deltas = events.filter((e) => e.type === "STATE_DELTA");
    for (const d of deltas)
      for (const op of d.delta as { op: string; path: string }[]) {
        expect(["add", "remove", "replace", "move", "copy", "test"]).toContain(op.op);
        expect(op.path.startsWith("/")).toBe(true);
      }
  });

  it("a resume that leaves an interrupt unanswered is a 400 and changes nothing", async () => {
    const s = session("approver");
    const agent = agentFor(s);
    const first = await run(agent);
    const ids = first.at(-1)?.outcome?.interrupts?.map((i) => i.id) ?? [];
    const before = await s.events();
    const response = await s.fetch(s.url("agui"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        threadId: s.session,
        runId: "r2",
        messages: [],
        resume: [{ interruptId: ids[0], status: "resolved" }],
      }),
    });
    expect(response.status).toBe(400);
    expect(await s.events()).toEqual(before);
  });
});
