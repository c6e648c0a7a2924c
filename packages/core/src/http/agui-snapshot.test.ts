/** AG-UI MESSAGES_SNAPSHOT of a long session (issue 10): the newest messages, the run's own last. */
import { describe, expect, it } from "vitest";
import { httpContext, mathAgent } from "../../test/fixtures.ts";
import { createTestSession } from "../testing/test-session.ts";
import { LIMITS } from "./limits.ts";
import { handleSessionRequest } from "./session-handler.ts";

interface Snapshot {
  type: string;
  messages: { id: string; role: string; content?: string }[];
}

/** Reads `GET .../agui?offset=` until the first MESSAGES_SNAPSHOT, then hangs up. */
async function firstSnapshot(response: Response): Promise<Snapshot> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the stream ended without a MESSAGES_SNAPSHOT");
    text += decoder.decode(value, { stream: true });
    for (const line of text.split("\n")) {
      if (!line.startsWith("data: ")) continue;
      const event = JSON.parse(line.slice(6)) as Snapshot;
      if (event.type === "MESSAGES_SNAPSHOT") {
        await reader.cancel();
        return event;
      }
    }
  }
}

describe("AG-UI MESSAGES_SNAPSHOT", () => {
  it(`holds the newest ${LIMITS.maxSnapshotMessages} messages, ending with the run's own user message`, async () => {
    const t = createTestSession(mathAgent);
    // 4 messages a run (user, assistant, tool, assistant): past the limit after 251 runs.
    const runs = Math.ceil(LIMITS.maxSnapshotMessages / 4) + 10;
    for (let i = 1; i < runs; i++) {
      await t.runtime.start({ message: `question ${i}` });
      await t.drain();
    }
    const before = t.runtime.ledger.tail;
    await t.runtime.start({ message: "the newest question" });
    await t.drain();
    const ctx = httpContext(t);
    const offset = String(before).padStart(16, "0");
    const response = await handleSessionRequest(
      new Request(`http://x/agents/math/s1/agui?offset=${offset}`),
      "agui",
      ctx,
    );
    const snapshot = await firstSnapshot(response);
    expect(snapshot.messages).toHaveLength(LIMITS.maxSnapshotMessages);
    expect(snapshot.messages.at(-1)).toMatchObject({
      role: "user",
      content: "the newest question",
    });
    // The oldest turns are the ones left out.
    const contents = snapshot.messages.map((m) => m.content);
    expect(contents).not.toContain("question 1");
    expect(contents).toContain(`question ${runs - 1}`);
    // 261 runs take ~5 s alone on this machine, past vitest's default 5 s when the suite runs in parallel.
  }, 30_000);
});
