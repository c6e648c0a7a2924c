import { HttpAgent } from "@ag-ui/client";
import { EventSchemas } from "@ag-ui/core/schemas";
import { afterEach, describe, expect, it } from "vitest";
import { probe } from "./fixture/probe.ts";
import { isTerminal, session } from "./support/session.ts";
import { readSse } from "./support/sse.ts";

afterEach(() => probe.reset());

interface ErrorBody {
  error: { code: string; message: string };
}

describe("AG-UI over SSE", () => {
  it("drives a run with @ag-ui/client's HttpAgent, unchanged", async () => {
    const s = session("probe");
    const agent = new HttpAgent({
      url: s.url("agui"),
      threadId: s.session,
      fetch: (url, init) => s.fetch(url, init),
      initialMessages: [{ id: "u1", role: "user", content: "go" }],
    });
    const seen: string[] = [];
    const result = await agent.runAgent({}, { onEvent: ({ event }) => void seen.push(event.type) });
    expect(seen[0]).toBe("RUN_STARTED");
    expect(seen.at(-1)).toBe("RUN_FINISHED");
    expect(seen).toContain("TOOL_CALL_RESULT");
    expect(agent.messages.map((m) => m.role)).toEqual([
      "user",
      "assistant",
      "tool",
      "tool",
      "assistant",
      "tool",
      "assistant",
    ]);
    expect(agent.messages.at(-1)?.content).toBe("All done: one, two.");
    expect(result.newMessages.length).toBeGreaterThan(0);
    expect(agent.state).toMatchObject({ status: "completed" });
    expect((await s.status()).status).toBe("completed");
  });

  it("serves the ledger as valid AG-UI events, resumable by event id", async () => {
    const s = session("probe");
    await s.post("runs", { input: { message: "go" } });
    await s.waitFor(isTerminal);
    const whole = await readSse(s.fetch, s.url("agui"), (e) => e.data.type === "RUN_FINISHED");
    for (const event of whole) expect(EventSchemas.safeParse(event.data).error).toBeUndefined();
    expect(whole.at(-1)?.data).toMatchObject({ outcome: { type: "success" } });
    for (const cut of [1, 7, whole.length - 2]) {
      const rest = await readSse(s.fetch, s.url("agui"), (e) => e.data.type === "RUN_FINISHED", {
        "last-event-id": whole[cut - 1]!.id,
      });
      expect([...whole.slice(0, cut), ...rest]).toEqual(whole);
    }
  });

  it("refuses an invalid RunAgentInput with a 400 and starts nothing", async () => {
    const s = session("probe");
    const bodies = [
      "{not json",
      JSON.stringify({ threadId: "t", messages: [] }),
      JSON.stringify({
        threadId: "t",
        runId: "r",
        messages: [{ id: "a", role: "assistant", content: "hi" }],
      }),
      JSON.stringify({
        threadId: "t",
        runId: "r",
        messages: [{ id: "u", role: "robot", content: "hi" }],
      }),
    ];
    for (const body of bodies) {
      const response = await s.fetch(s.url("agui"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(400);
      const error = ((await response.json()) as ErrorBody).error;
      expect(error.code).toMatch(/invalid_request|malformed_json/);
      expect(error.message.length).toBeGreaterThan(20);
    }
    expect(await s.status()).toMatchObject({ status: "idle", offset: "0000000000000000" });
  });
});
