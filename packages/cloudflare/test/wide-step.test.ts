import { runInDurableObject } from "cloudflare:test";
import { HttpAgent } from "@ag-ui/client";
import { describe, expect, it } from "vitest";
import { readPrompt } from "../../core/src/ledger/projections/message-prompts.ts";
import { doSqlPort } from "../src/index.ts";
import { WIDE_CALLS, WIDE_PAGE_CHARS, widePages } from "./fixture/platform.ts";
import { history } from "./support/chat-tab.ts";
import { isTerminal, session } from "./support/session.ts";

/** A `page` result, where a part or an event holds it. */
const page = (holder: unknown) => holder as { result: { i: number; blob: string } };

const indexes = Array.from({ length: WIDE_CALLS }, (_, i) => i);

describe("a step whose tool results together pass DO SQLite's row limit", () => {
  it("records every result once, runs on to the next step, and every reader shows them all", async () => {
    widePages.length = 0;
    const s = session("wide");
    await s.post("runs", { input: { message: "page" } });
    const end = await s.waitFor(isTerminal, 60_000);
    expect(end).toMatchObject({
      kind: "run.completed",
      data: { output: `Read ${WIDE_CALLS} pages.` },
    });
    // Each call ran once and its result is one `tool.completed`.
    expect([...widePages].sort((a, b) => a - b)).toEqual(indexes);
    const events = await s.events();
    const completed = events.filter((e) => e.kind === "tool.completed");
    expect(completed.map((e) => page(e.data).result.i).sort((a, b) => a - b)).toEqual(indexes);

    // GET .../messages: the step's tool message holds every result, in call order.
    const tool = (await s.messages()).find((m) => m.role === "tool");
    expect(
      tool?.parts.map((p) => {
        const { result } = page(p);
        return [p.type === "tool-result" && p.status, result?.i, result?.blob.length];
      }),
    ).toEqual(indexes.map((i) => ["completed", i, WIDE_PAGE_CHARS]));

    // A reload's chat: every call's output.
    const restored = await history(s);
    const outputs = restored
      .flatMap((m) => m.parts)
      .filter((p) => "state" in p && p.state === "output-available");
    expect(outputs).toHaveLength(WIDE_CALLS);

    // The prompt as a woken object reads it: every result whole.
    await runInDurableObject(s.stub(), (_instance, state) => {
      const sql = doSqlPort(state.storage);
      // Deployed DO SQLite's limit (2 MB a row), which the test pool's workerd does not apply.
      const [widest] = sql.exec<{ n: number }>(
        "SELECT max(length(CAST(parts AS BLOB)) + coalesce(length(CAST(prompt AS BLOB)), 0)) AS n FROM messages",
      );
      expect(widest?.n).toBeLessThan(2_000_000);
      const { messages } = readPrompt(sql);
      const results = messages.flatMap((m) => (m.role === "tool" ? m.content : []));
      expect(results).toHaveLength(WIDE_CALLS);
      expect(JSON.stringify(results).length).toBeGreaterThan(WIDE_CALLS * WIDE_PAGE_CHARS);
    });
  });

  it("AG-UI: the run's MESSAGES_SNAPSHOT lists every result whole (HttpAgent)", async () => {
    const s = session("wide");
    const a = new HttpAgent({
      url: s.url("agui"),
      threadId: s.session,
      fetch: (url, init) => s.fetch(url, init),
      initialMessages: [{ id: "u1", role: "user", content: "page" }],
    });
    await a.runAgent();
    await s.waitFor(isTerminal, 60_000);
    // HttpAgent keeps what the snapshot lists.
    const results = a.messages.filter((m) => m.role === "tool");
    expect(results.map((m) => JSON.parse(m.content as string).blob.length)).toEqual(
      indexes.map(() => WIDE_PAGE_CHARS),
    );
  });
});
