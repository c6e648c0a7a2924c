/**
 * A start's or a resume's earlier messages (`messages`) carry a user message's files, as its own
 * message does: the model sees them, and the conversation keeps them (agent/prior-messages.ts).
 * The chat route's regenerate of a run resumed with a message hands the run's first message back
 * this way (chat-turns-attack.test.ts has it with the real Chat).
 */
import type { LanguageModelV4, LanguageModelV4Message } from "@ai-sdk/provider";
import { MockLanguageModelV4 } from "ai/test";
import { describe, expect, it } from "vitest";
import { startInput } from "../src/commands/run-commands.ts";
import { earlierInTurn } from "../src/http/chat/chat-turn.ts";
import { defineAgent } from "../src/index.ts";
import { listMessages, runUserMessages } from "../src/ledger/projections/message-reads.ts";
import { latestRun } from "../src/ledger/projections/runs.ts";
import { createTestSession } from "../src/testing/index.ts";
import { banker, mathAgent } from "./fixtures.ts";

const BASE64 = "iVBORw0KGgo=";
const PNG = `data:image/png;base64,${BASE64}`;

function recordingSession() {
  const prompts: LanguageModelV4Message[][] = [];
  const inner = mathAgent.model as LanguageModelV4;
  const model = new MockLanguageModelV4({
    doStream: async (options) => {
      prompts.push(structuredClone(options.prompt));
      return inner.doStream(options);
    },
  });
  return { s: createTestSession(defineAgent({ ...mathAgent, name: "math", model })), prompts };
}

describe("prior messages with files", () => {
  it("a start's earlier user message keeps its files: in the prompt and in the messages", async () => {
    const { s, prompts } = recordingSession();
    await s.runtime.start({
      message: "What is 2+3?",
      messages: [
        {
          role: "user",
          content: "look at this",
          files: [{ type: "file", data: PNG, mediaType: "image/png", filename: "a.png" }],
        },
        { role: "assistant", content: "I see a picture." },
      ],
    });
    await s.drain();
    const users = prompts[0]?.filter((m) => m.role === "user") ?? [];
    expect(users[0]?.content).toEqual([
      { type: "text", text: "look at this" },
      {
        type: "file",
        mediaType: "image/png",
        data: { type: "data", data: BASE64 },
        filename: "a.png",
      },
    ]);
    const first = listMessages(s.sql, -1, 10)[0];
    expect(first?.parts).toEqual([
      { type: "text", text: "look at this" },
      { type: "file", mediaType: "image/png", url: PNG, filename: "a.png" },
    ]);
  });

  it("files are checked like a message's own, and belong to user messages only", () => {
    const start = (messages: unknown) =>
      startInput.safeParse({ input: { message: "hi", messages } }).error?.issues.map((i) => i.path);
    expect(
      start([
        {
          role: "user",
          content: "x",
          files: [{ type: "file", data: "ftp://a", mediaType: "image/png" }],
        },
      ]),
    ).toEqual([["input", "messages", 0, "files", 0, "data"]]);
    expect(
      start([{ role: "assistant", content: "x", files: [{ type: "image", image: PNG }] }]),
    ).toEqual([["input", "messages", 0, "files"]]);
  });

  it("a regenerate hands back an earlier user message whose text is blank but which has files", async () => {
    // POST runs takes a blank message with files (" " and a picture); the turn's later message
    // came with a resume. A regenerate of the turn hands the first back with its picture.
    const s = createTestSession(banker);
    const files = [{ type: "file" as const, data: PNG, mediaType: "image/png" }];
    await s.runtime.start({ message: " ", files });
    await s.drain();
    await s.runtime.interrupt("stop");
    await s.runtime.resume({ mode: "with_message", message: "what is in it?" });
    await s.drain();
    const latest = latestRun(s.sql);
    if (!latest) throw new Error("no run");
    const users = runUserMessages(s.sql, latest.runId);
    const prior = earlierInTurn(s.sql, latest, {
      messageId: users.at(-1)?.id ?? "",
      answersBefore: [],
    });
    const first = prior.find((m) => m.role === "user");
    expect(first).toMatchObject({
      role: "user",
      files: [{ type: "file", mediaType: "image/png" }],
    });
    // As a start's `messages` it passes the start's own check.
    expect(startInput.safeParse({ input: { message: "again", messages: prior } }).success).toBe(
      true,
    );
  });
});
