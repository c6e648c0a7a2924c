/**
 * The quickstart's embedded scripted model (examples/quickstart/src/model.ts), run in Node on
 * the real runtime: what its "remember" rule saves is the note the user meant.
 */
import { createTestSession } from "@durable-agents/core/testing";
import { describe, expect, it } from "vitest";
import { assistant } from "../../examples/quickstart/src/assistant.ts";

/** The notes the demo agent saved for `message`, in a session of its own. */
async function savedNotes(message: string): Promise<string[]> {
  const s = createTestSession(assistant, { env: { SCRIPTED_DELAY_MS: "0" } });
  await s.runtime.start({ message });
  await s.drain();
  expect(s.runtime.status().status).toBe("completed");
  return s.sql.exec<{ text: string }>("SELECT text FROM notes ORDER BY id").map((r) => r.text);
}

describe("the quickstart's scripted model saves the note meant", () => {
  it.each([
    ["remember to buy milk", "buy milk"],
    ["Remember that the keys are in the drawer", "the keys are in the drawer"],
    ["note: call Ana at 5", "call Ana at 5"],
    ["remember, to water the plants", "water the plants"],
    ["remember the keys", "the keys"],
  ])("%j saves %j", async (message, note) => {
    expect(await savedNotes(message)).toEqual([note]);
  });
});
