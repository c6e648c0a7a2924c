import { afterEach, describe, expect, it } from "vitest";
import {
  createClient,
  createSessionStore,
  type SessionSnapshot,
  type SessionStore,
} from "../src/index.ts";
import { type FakeServer, type Script, startFakeServer } from "./fake-server.ts";

let server: FakeServer | undefined;
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
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

const approvalScript: Script = () => [
  { kind: "step.started", data: { step: 0 } },
  { kind: "model.delta", data: { step: 0, text: "Saving." } },
  {
    kind: "model.completed",
    data: {
      step: 0,
      text: "Saving.",
      toolCalls: [{ callId: "c1", name: "notes", args: { text: "x" } }],
      finishReason: "tool-calls",
      usage: { inputTokens: 1, outputTokens: 1 },
    },
  },
  { kind: "approval.requested", data: { callId: "c1", name: "notes", args: { text: "x" } } },
  { kind: "run.waiting", data: { reason: "approval" } },
];

describe("session store", () => {
  it("builds messages from a live run, with streamed text replaced by the completed text", async () => {
    server = await startFakeServer();
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
          { type: "tool-call", callId: "c1", name: "calculator", args: { expression: "2+3" } },
        ],
      ],
      [
        "tool",
        [{ type: "tool-result", callId: "c1", name: "calculator", status: "completed", result: 5 }],
      ],
      ["assistant", [{ type: "text", text: "2 + 3 = 5." }]],
    ]);
  });

  it("reconnecting does not fold any event twice", async () => {
    server = await startFakeServer({ paceMs: 10 });
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
    expect(done.offset).toBe(server.ledger("assistant", "s1").at(-1)?.offset);
  });

  it("lists pending approvals and sends the answer as a resume", async () => {
    server = await startFakeServer({ script: approvalScript });
    const store = createSessionStore(
      createClient({ baseUrl: server.url }).session("assistant", "s1"),
    );
    stops.push(store.connect());
    await store.send("save x");
    const waiting = await until(store, (s) => s.status === "waiting");
    expect(waiting.pendingApprovals).toEqual([
      { runId: "r1", callId: "c1", name: "notes", args: { text: "x" } },
    ]);
    await store.approve("c1", true);
    const after = await until(store, (s) => s.status === "completed");
    expect(after.pendingApprovals).toEqual([]);
    expect(server.requests.at(-1)?.body).toEqual({
      mode: "continue",
      approvals: [{ callId: "c1", approved: true }],
    });
  });

  it("keeps a command's error in the snapshot and rethrows it", async () => {
    server = await startFakeServer({ paceMs: 1_000 });
    const store = createSessionStore(
      createClient({ baseUrl: server.url }).session("assistant", "s1"),
    );
    await store.send("one");
    await expect(store.send("two")).rejects.toMatchObject({ code: "run_active" });
    expect(store.getSnapshot().error).toMatchObject({ code: "run_active" });
    await store.stop();
    expect(store.getSnapshot().error).toBeUndefined();
  });
});
