import { afterEach, describe, expect, it } from "vitest";
import {
  createClient,
  createSessionStore,
  type SessionSnapshot,
  type SessionStore,
} from "../src/index.ts";
import { calculatorAgent, holdRuns, releaseHeld } from "./agents.ts";
import type { RealServer } from "./real-server.ts";
import { ledger, start } from "./support.ts";

let server: RealServer | undefined;
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  releaseHeld();
  await server?.close();
  server = undefined;
});

function until(
  store: SessionStore,
  predicate: (s: SessionSnapshot) => boolean,
): Promise<SessionSnapshot> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out; last: ${JSON.stringify(store.getSnapshot())}`)),
      3_000,
    );
    const check = () => {
      const s = store.getSnapshot();
      if (!predicate(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    };
    const off = store.subscribe(check);
    check();
  });
}

describe("session store", () => {
  it("builds messages from a live run, with streamed text replaced by the completed text", async () => {
    server = await start();
    const store = createSessionStore(
      createClient({ baseUrl: server.url }).session("assistant", "s1"),
    );
    stops.push(store.connect());
    await store.send("What is 2+3?");
    const done = await until(store, (s) => s.status === "completed");
    expect(done.runId).toBe("r1");
    expect(done.connected).toBe(true);
    expect(done.messages.map((m) => [m.role, m.parts])).toEqual([
      ["user", [{ type: "text", text: "What is 2+3?" }]],
      [
        "assistant",
        [
          { type: "text", text: "Let me calculate." },
          {
            type: "tool-call",
            callId: "call_0_0",
            name: "calculator",
            args: { expression: "2+3" },
          },
        ],
      ],
      [
        "tool",
        [
          {
            type: "tool-result",
            callId: "call_0_0",
            name: "calculator",
            status: "completed",
            result: 5,
          },
        ],
      ],
      ["assistant", [{ type: "text", text: "2 + 3 = 5." }]],
    ]);
  });

  it("reconnecting does not fold any event twice", async () => {
    server = await start({ agents: [calculatorAgent("assistant", 5)] });
    const store = createSessionStore(
      createClient({ baseUrl: server.url }).session("assistant", "s1"),
    );
    let disconnect = store.connect();
    await store.send("What is 2+3?");
    await until(store, (s) => s.messages.length >= 2);
    disconnect();
    disconnect = store.connect();
    disconnect();
    disconnect = store.connect();
    stops.push(disconnect);
    const done = await until(store, (s) => s.status === "completed");
    expect(done.messages).toHaveLength(4);
    expect(done.offset).toBe(ledger(server, "assistant", "s1").at(-1)?.offset);
  });

  it("lists pending approvals and sends the answer as a resume", async () => {
    server = await start();
    const store = createSessionStore(createClient({ baseUrl: server.url }).session("payer", "s1"));
    stops.push(store.connect());
    await store.send("pay 5");
    const waiting = await until(store, (s) => s.status === "waiting");
    expect(waiting.pendingApprovals).toEqual([
      { runId: "r1", callId: "call_0_0", name: "pay", args: { amount: 5 } },
    ]);
    await store.approve("call_0_0", true);
    const after = await until(store, (s) => s.status === "completed");
    expect(after.pendingApprovals).toEqual([]);
    expect(after.messages.at(-1)?.parts).toEqual([{ type: "text", text: 'Result: {"paid":5}' }]);
    expect(server.requests.find((r) => r.path.endsWith("/resume"))?.body).toEqual({
      mode: "continue",
      approvals: [{ callId: "call_0_0", approved: true }],
    });
  });

  it("keeps a command's error in the snapshot and rethrows it", async () => {
    server = await start();
    holdRuns();
    const store = createSessionStore(createClient({ baseUrl: server.url }).session("holder", "s1"));
    await store.send("one");
    await expect(store.send("two")).rejects.toMatchObject({ code: "run_active" });
    expect(store.getSnapshot().error).toMatchObject({ code: "run_active" });
    await store.stop();
    expect(store.getSnapshot().error).toBeUndefined();
  });
});
