/**
 * A session stored by the schema before projections migrated in place (`messages_by_run` on
 * every row, `usage_entries_by_run`, no `projection:*` migrations recorded), left in the middle
 * of a streamed answer, then opened by a fresh object of the new code (messages.ts,
 * usage-entries.ts `migrations`): its indexes change in place, the woken object's prompt shows
 * the answer streamed so far, the step is redriven, and the run's end leaves no deltas.
 */
import type { LanguageModelV4, LanguageModelV4StreamPart } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineAgent, defineTool, latestRun } from "../src/index.ts";
import { readPrompt } from "../src/ledger/projections/message-prompts.ts";
import { listMessages } from "../src/ledger/projections/message-reads.ts";
import type { SqlPort } from "../src/sql/port.ts";
import { createTestSession } from "../src/testing/index.ts";

const usage = {
  inputTokens: { total: 5, noCache: 5, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 3, text: 3, reasoning: 0 },
};
const text = (delta: string): LanguageModelV4StreamPart => ({
  type: "text-delta",
  id: "t0",
  delta,
});

/** Step 1 calls `noop`; step 2 answers "partial final", its first call hanging after "partial ". */
function hangingModel(): LanguageModelV4 {
  let answers = 0;
  return {
    specificationVersion: "v4",
    provider: "hanging",
    modelId: "hanging",
    supportedUrls: {},
    async doGenerate() {
      throw new Error("stream only");
    },
    async doStream(options) {
      const parts: (LanguageModelV4StreamPart | "hang")[] = [
        { type: "stream-start", warnings: [] },
        { type: "text-start", id: "t0" },
      ];
      if (!options.prompt.some((m) => m.role === "tool")) {
        parts.push(text("call "), text("it"), { type: "text-end", id: "t0" });
        parts.push({ type: "tool-call", toolCallId: "c1", toolName: "noop", input: "{}" });
        parts.push({
          type: "finish",
          finishReason: { unified: "tool-calls", raw: undefined },
          usage,
        });
      } else {
        parts.push(text("partial "));
        // The object that streams the first answer is evicted here: its call never ends.
        if (++answers === 1) parts.push("hang");
        parts.push(text("final"), { type: "text-end", id: "t0" });
        parts.push({ type: "finish", finishReason: { unified: "stop", raw: undefined }, usage });
      }
      return {
        stream: new ReadableStream({
          async start(controller) {
            for (const part of parts) {
              if (part === "hang") await new Promise(() => {});
              else controller.enqueue(part);
            }
            controller.close();
          },
        }),
      };
    },
  };
}

const indexes = (sql: SqlPort) =>
  sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('messages', 'usage_entries') ORDER BY name",
    )
    .map((r) => r.name);

const streamingRows = (sql: SqlPort) =>
  sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages WHERE streaming = 1")[0]?.n ?? 0;

describe("a session of the old schema, in the middle of an answer", () => {
  it("opens migrated in place, reads the streamed text, redrives the step and ends without deltas", async () => {
    const noop = defineTool({
      name: "noop",
      description: "does nothing",
      input: z.object({}),
      effect: "pure",
      execute: () => "ok",
    });
    const agent = defineAgent({ name: "a", system: "", tools: [noop], model: hangingModel() });
    const s = createTestSession(agent, { coalesce: { maxDelayMs: 50, maxChars: 1 } });
    await s.runtime.start({ message: "go" });
    void s.drain(); // hangs in step 2's answer, after its first delta
    for (let i = 0; i < 200 && streamingRows(s.sql) === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(streamingRows(s.sql)).toBe(1);
    // What the old code left: deltas only for the row still streaming, the old indexes, and no
    // projection migrations recorded.
    s.sql.exec(
      "DELETE FROM message_deltas WHERE id IN (SELECT id FROM messages WHERE streaming = 0)",
    );
    s.sql.exec("DROP INDEX messages_user_by_run");
    s.sql.exec("CREATE INDEX messages_by_run ON messages (run_id, role)");
    s.sql.exec("CREATE INDEX usage_entries_by_run ON usage_entries (run_id, step)");
    s.sql.exec("DELETE FROM schema_migrations WHERE set_name LIKE 'projection:%'");
    expect(indexes(s.sql)).toEqual(["messages_by_run", "messages_by_seq", "usage_entries_by_run"]);

    const woken = s.restart();
    expect(indexes(woken.sql)).toEqual(["messages_by_seq", "messages_user_by_run"]);
    expect(readPrompt(woken.sql).messages.at(-1)).toEqual({
      role: "assistant",
      content: [{ type: "text", text: "partial " }],
    });
    // The lost object's lease runs out; the woken one redrives step 2 (attempt 2).
    for (let i = 0; i < 5 && latestRun(woken.sql)?.status === "running"; i++) {
      woken.clock.advance(600_000);
      await woken.runtime.alarm();
      await woken.drain();
    }
    expect(latestRun(woken.sql)?.status).toBe("completed");
    expect(
      woken.runtime.ledger
        .read(0)
        .filter((e) => e.kind === "step.started")
        .map((e) => e.data),
    ).toEqual([
      { step: 1, attempt: 1 },
      { step: 2, attempt: 1 },
      { step: 2, attempt: 2 },
    ]);
    const answers = listMessages(woken.sql, 0, 100)
      .filter((m) => m.role === "assistant")
      .map((m) => m.parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join(""));
    expect(answers).toEqual(["call it", "partial final"]);
    expect(woken.sql.exec("SELECT id FROM message_deltas")).toEqual([]);
  });
});
