/** GET .../messages?before= (newest first, paging back) and GET .../status `exists` (issue 16). */
import { describe, expect, it } from "vitest";
import { httpContext, mathAgent } from "../../test/fixtures.ts";
import { createTestSession } from "../testing/test-session.ts";
import { handleSessionRequest } from "./session-handler.ts";

interface Page {
  messages: { index: number; role: string; parts: { type: string; text?: string }[] }[];
  nextCursor: string | null;
  prevCursor: string | null;
}

async function get<T>(t: ReturnType<typeof createTestSession>, path: string): Promise<T> {
  const ctx = httpContext(t);
  const action = path.split("?")[0] as string;
  const response = await handleSessionRequest(
    new Request(`http://x/agents/math/s1/${path}`),
    action,
    ctx,
  );
  return { http: response.status, ...((await response.json()) as object) } as T;
}

describe("GET .../messages?before=", () => {
  it("pages back from the newest message to the first, each page in conversation order", async () => {
    const t = createTestSession(mathAgent);
    for (let i = 1; i <= 30; i++) {
      await t.runtime.start({ message: `question ${i}` });
      await t.drain();
    }
    const all = await get<Page>(t, "messages?limit=200");
    expect(all.messages.length).toBeGreaterThan(60);

    const newest = await get<Page>(t, "messages?before=end&limit=25");
    expect(newest.messages.map((m) => m.index)).toEqual(
      all.messages.slice(-25).map((m) => m.index),
    );
    expect(newest.nextCursor).toBe(String(all.messages.at(-1)?.index));

    const seen = [...newest.messages];
    let prev = newest.prevCursor;
    while (prev !== null) {
      const page = await get<Page>(t, `messages?before=${prev}&limit=25`);
      seen.unshift(...page.messages);
      prev = page.prevCursor;
    }
    expect(seen.map((m) => m.index)).toEqual(all.messages.map((m) => m.index));

    // nextCursor reads forward: a new answer is what follows the newest page.
    await t.runtime.start({ message: "the newest question" });
    await t.drain();
    const after = await get<Page>(t, `messages?cursor=${newest.nextCursor}`);
    expect(after.messages[0]?.parts[0]?.text).toBe("the newest question");
  });

  it("refuses a bad before and before with cursor", async () => {
    const t = createTestSession(mathAgent);
    // (the session handler throws; errorResponse renders it as a 400 at the boundary)
    await expect(get(t, "messages?before=x")).rejects.toMatchObject({ status: 400 });
    await expect(get(t, "messages?before=3&cursor=1")).rejects.toMatchObject({ status: 400 });
    expect(await get<Page>(t, "messages?before=end")).toMatchObject({
      messages: [],
      prevCursor: null,
      nextCursor: "0",
    });
  });
});

describe("GET .../status", () => {
  it("says exists: false for a session with no events, true once a run started", async () => {
    const t = createTestSession(mathAgent);
    expect(await get(t, "status")).toMatchObject({ http: 200, status: "idle", exists: false });
    await t.runtime.start({ message: "What is 2+3?" });
    await t.drain();
    expect(await get(t, "status")).toMatchObject({ exists: true, status: "completed" });
  });
});
