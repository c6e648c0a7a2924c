/**
 * A client-side tool's error (`addToolOutput({ state: "output-error", errorText })`) is the
 * denial's reason, which the model sees. The client's tool wrote it, not the user, and the chat
 * client never sent a `reason`: a long one is cut to MAX_REASON_CHARS, not refused with a 400
 * naming `approvals.0.reason`, a field the request does not have.
 */
import { describe, expect, it } from "vitest";
import { resumeInput } from "../../commands/run-commands.ts";
import { check } from "../../validation/check.ts";
import { MAX_REASON_CHARS } from "../../validation/fields.ts";
import { chatCommand, chatRequestSchema } from "./chat-request.ts";

function answer(errorText: string) {
  const body = chatRequestSchema.parse({
    id: "s1",
    trigger: "submit-message",
    messages: [
      { id: "u1", role: "user", parts: [{ type: "text", text: "what time is it?" }] },
      {
        id: "run_1",
        role: "assistant",
        parts: [
          {
            type: "tool-browser_time",
            toolCallId: "call_0_0",
            state: "output-error",
            input: {},
            errorText,
          },
        ],
      },
    ],
  });
  const command = chatCommand(body);
  if (command.type !== "answer") throw new Error(`expected an answer, got ${command.type}`);
  return command.decisions;
}

describe("a client-side tool's errorText", () => {
  it("over the reason's limit is cut to it, marked, and the resume takes it", () => {
    const long = `TypeError: ${"x".repeat(3000)}`;
    const [decision] = answer(long);
    expect(decision?.reason).toHaveLength(MAX_REASON_CHARS);
    expect(decision?.reason).toBe(`${long.slice(0, MAX_REASON_CHARS - 1)}…`);
    expect(check(resumeInput, { approvals: answer(long) }).success).toBe(true);
  });

  it("within the limit is the reason as it is", () => {
    expect(answer("denied by the browser")).toEqual([
      { callId: "call_0_0", approved: false, reason: "denied by the browser" },
    ]);
  });
});
