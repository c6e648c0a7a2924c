/**
 * The prompt a woken object reads in one statement (`readPrompt`, the messages' stored
 * provider-format JSON) is the prompt converting every message gives: byte for byte, and
 * with the same values (a file part's URL is a `URL` again). The reference is what the prompt
 * cache did before it read stored prompts: `convert` of each of `changedMessages(sql, 0)`.
 */
import type { LanguageModelV4Message, LanguageModelV4Prompt } from "@ai-sdk/provider";
import { describe, expect, it } from "vitest";
import { MessageCache } from "../src/agent/message-cache.ts";
import { convert } from "../src/agent/prompt.ts";
import type { NewEvent } from "../src/ledger/events.ts";
import { Ledger } from "../src/ledger/ledger.ts";
import { readPrompt } from "../src/ledger/projections/message-prompts.ts";
import { changedMessages } from "../src/ledger/projections/message-reads.ts";
import { messagesProjection } from "../src/ledger/projections/messages.ts";
import { ManualClock } from "../src/testing/manual-clock.ts";
import { NodeSqlPort } from "../src/testing/node-sqlite.ts";

const SYSTEM = "You are a test.";

/** The prompt as converting every message of the projection gives it (the cache before). */
function converted(sql: NodeSqlPort): LanguageModelV4Prompt {
  const messages = changedMessages(sql, 0)
    .filter((m) => m.parts.length > 0)
    .map(convert)
    .filter((m): m is LanguageModelV4Message => m !== undefined);
  return [{ role: "system", content: SYSTEM }, ...messages];
}

const usage = { inputTokens: 1, outputTokens: 1 };
const started = (runId: string, data: Partial<NewEvent<"run.started">["data"]> = {}): NewEvent => ({
  kind: "run.started",
  runId,
  data: { agent: "a", input: { message: `hello from ${runId}` }, ...data },
});
const step = (runId: string, n: number, attempt = 1): NewEvent => ({
  kind: "step.started",
  runId,
  data: { step: n, attempt },
});
const delta = (runId: string, n: number, text: string): NewEvent => ({
  kind: "model.delta",
  runId,
  data: { step: n, text },
});
const completed = (
  runId: string,
  n: number,
  text: string,
  toolCalls: { callId: string; name: string; args: unknown }[] = [],
): NewEvent =>
  ({
    kind: "model.completed",
    runId,
    data: { step: n, text, toolCalls, finishReason: "stop", usage, model: "m" },
  }) as NewEvent;
const tool = (
  runId: string,
  n: number,
  callId: string,
  outcome: "completed" | "failed" | "outcome_unknown",
  result?: unknown,
): NewEvent =>
  ({
    kind: `tool.${outcome}`,
    runId,
    data:
      outcome === "completed"
        ? { step: n, callId, name: "t", result }
        : outcome === "failed"
          ? { step: n, callId, name: "t", error: { code: "boom", message: "it \u0007 broke" } }
          : { step: n, callId, name: "t" },
  }) as NewEvent;

/** A conversation with every kind of message the projection writes, batch by batch. */
const BATCHES: NewEvent[][] = [
  [
    started("r1", {
      input: {
        message: 'look at these 🖼️ \n\t "quoted" </script>',
        files: [
          { type: "file", mediaType: "image/png", url: "data:image/png;base64,iVBORw0KGgo=" },
          {
            type: "file",
            mediaType: "application/pdf",
            url: "https://example.com/a b/doc.pdf?x=1#frag",
            filename: "doc.pdf",
          },
        ],
        messages: [
          { role: "user", content: "earlier question" },
          { role: "assistant", content: "earlier answer" },
        ],
      },
    }),
    step("r1", 1),
  ],
  [delta("r1", 1, "  "), delta("r1", 1, "Let me ")],
  [delta("r1", 1, "check\u2028.")],
  [
    completed("r1", 1, "Let me check\u2028.", [
      { callId: "c1", name: "t", args: { a: 1, nested: { "2": [null, true, -0.5e-7] } } },
      { callId: "c2", name: "t", args: {} },
      { callId: "c3", name: "t", args: "raw" },
      { callId: "c4", name: "t", args: [] },
    ]),
  ],
  [tool("r1", 1, "c2", "failed"), tool("r1", 1, "c1", "completed", { ok: 1, "1": "x" })],
  [
    tool("r1", 1, "c3", "completed", {
      type: "mcp.content",
      content: [
        { type: "text", text: "from mcp" },
        { type: "image", data: "AAAA", mimeType: "image/png" },
        { type: "resource", resource: { uri: "file:///r", text: "resource text" } },
      ],
    }),
    tool("r1", 1, "c4", "outcome_unknown"),
    { kind: "step.completed", runId: "r1", data: { step: 1 } },
  ],
  // A blank answer (hidden), then a lost attempt redriven.
  [step("r1", 2), delta("r1", 2, " \n"), completed("r1", 2, " \n")],
  [step("r1", 3), delta("r1", 3, "lost attempt")],
  [step("r1", 3, 2), delta("r1", 3, "second attempt")],
  [
    completed("r1", 3, "second attempt"),
    { kind: "run.completed", runId: "r1", data: {} } as NewEvent,
  ],
  // A second run whose tool call waits for approval with edited arguments.
  [
    started("r2"),
    step("r2", 1),
    completed("r2", 1, "", [{ callId: "d1", name: "t", args: { amount: 100 } }]),
  ],
  [
    {
      kind: "approval.resolved",
      runId: "r2",
      data: { step: 1, callId: "d1", approved: true, args: { amount: 5 } },
    },
  ],
  [tool("r2", 1, "d1", "completed", 5), step("r2", 2), completed("r2", 2, "done r2")],
  // A regenerated turn hides r2's messages; r3 answers again.
  [started("r3", { replaces: "r2" }), step("r3", 1), completed("r3", 1, "regenerated")],
  // r3 goes back to a checkpoint with a message: what it said after is hidden.
  [
    {
      kind: "run.resumed",
      runId: "r3",
      data: {
        mode: "from_checkpoint",
        checkpoint: 1,
        message: "try again",
        messages: [{ role: "assistant", content: "an added note" }],
      },
    } as NewEvent,
  ],
  // Messages too large to keep their prompt beside their parts: read from their parts.
  [
    started("r5", {
      input: {
        message: "a large file",
        files: [
          {
            type: "file",
            mediaType: "image/png",
            url: `data:image/png;base64,${"A".repeat(600_000)}`,
          },
        ],
      },
    }),
    step("r5", 1),
    completed("r5", 1, "", [{ callId: "e1", name: "t", args: {} }]),
    tool("r5", 1, "e1", "completed", { text: "x".repeat(600_000) }),
    step("r5", 2),
    completed("r5", 2, "seen"),
    { kind: "run.completed", runId: "r5", data: {} } as NewEvent,
  ],
  // A run cut off while streaming: its partial answer is sent as it stands.
  [started("r4"), step("r4", 1), delta("r4", 1, "partial "), delta("r4", 1, 'an"swer\\')],
];

function ledger() {
  const sql = new NodeSqlPort();
  return { sql, ledger: new Ledger(sql, new ManualClock(), [messagesProjection]) };
}

function expectSame(actual: LanguageModelV4Prompt, expected: LanguageModelV4Prompt): void {
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  expect(actual).toEqual(expected);
}

describe("the prompt read in one statement", () => {
  it("is the converted conversation, byte for byte, after every batch of events", () => {
    const { sql, ledger: l } = ledger();
    const seen: string[] = [];
    for (const batch of BATCHES) {
      l.append(batch);
      const expected = converted(sql);
      seen.push(JSON.stringify(expected));
      const read = readPrompt(sql);
      expectSame([{ role: "system", content: SYSTEM }, ...read.messages], expected);
      expect(read.lastIndex).toBe(
        sql.exec<{ n: number }>("SELECT max(idx) AS n FROM messages")[0]?.n,
      );
    }
    // The conversation exercised what it says it does: the approved arguments were sent, then
    // the regenerate and the rewind hid what they replaced.
    expect(seen.some((json) => json.includes('"amount":5') && !json.includes('"amount":100'))).toBe(
      true,
    );
    expect(seen.some((json) => json.includes("done r2"))).toBe(true);
    const final = converted(sql);
    const json = JSON.stringify(final);
    for (const needle of [
      '"url":"https://example.com/a%20b/doc.pdf?x=1#frag"',
      "mcp",
      "partial an",
    ])
      expect(json).toContain(needle);
    expect(json).not.toContain("done r2");
    expect(json).not.toContain("regenerated");
    expect(json).not.toContain("lost attempt");
    const file = final
      .flatMap((m) => (m.role === "user" ? m.content : []))
      .find((p) => p.type === "file" && p.data.type === "url");
    expect(file?.type === "file" && file.data.type === "url" && file.data.url).toBeInstanceOf(URL);
  });

  it("a cache woken at any point and kept across the following events gives the same prompts", () => {
    for (let wakeAt = 0; wakeAt <= BATCHES.length; wakeAt++) {
      const { sql, ledger: l } = ledger();
      for (const batch of BATCHES.slice(0, wakeAt)) l.append(batch);
      const cache = new MessageCache(sql);
      expectSame(cache.prompt(SYSTEM, l.tail), converted(sql));
      for (const batch of BATCHES.slice(wakeAt)) {
        l.append(batch);
        expectSame(cache.prompt(SYSTEM, l.tail), converted(sql));
      }
    }
    // Rebuilds the conversation, a 600 KB message among it, at every wake point: ~2 s on an
    // idle core; a loaded CI machine (2 cores, other suites in parallel) took over 5.
  }, 30_000);

  it("keeps a large message's prompt out of its row, and still sends it", () => {
    const { sql, ledger: l } = ledger();
    for (const batch of BATCHES) l.append(batch);
    const deferred = sql.exec<{ role: string }>(
      "SELECT role FROM messages WHERE prompt = '0' ORDER BY idx",
    );
    expect(deferred.map((r) => r.role)).toEqual(["user", "tool"]);
    const widest = sql.exec<{ n: number }>(
      "SELECT max(length(parts) + coalesce(length(prompt), 0)) AS n FROM messages",
    )[0]?.n;
    expect(widest).toBeLessThan(700_000);
    expect(JSON.stringify(converted(sql))).toContain("A".repeat(600_000));
  });

  it("is one SQL statement, whatever the length of the conversation", () => {
    const { sql, ledger: l } = ledger();
    for (let i = 0; i < 50; i++)
      l.append([started(`r${i}`), step(`r${i}`, 1), completed(`r${i}`, 1, `answer ${i}`)]);
    let statements = 0;
    const exec = sql.exec.bind(sql);
    sql.exec = ((query: string, ...params: never[]) => {
      statements++;
      return exec(query, ...params);
    }) as typeof sql.exec;
    const prompt = new MessageCache(sql).prompt(SYSTEM, l.tail);
    expect(prompt).toHaveLength(101);
    expect(statements).toBe(1);
  });
});
