/**
 * Restoring a chat at its edges, with the AI SDK's own `Chat` on the real handler:
 * - AgentChat.load asks the history, then resumes the active run: a run that ends between the
 *   two requests is in neither (the history left it to the resume, the resume answers 204),
 *   and must still be shown;
 * - a run rewound to a checkpoint (POST .../resume from_checkpoint) is restored as the
 *   conversation shows it, without what the rewind took back.
 */
import { afterEach, expect, it } from "vitest";
import { comparable, nodeChat, textOf } from "../../../test/support/node-chat.ts";
import { AgentChat, loadChatMessages } from "../src/agent-chat.ts";
import { holdRuns, releaseHeld } from "./agents.ts";
import type { RealServer } from "./real-server.ts";
import { start, until } from "./support.ts";

let server: RealServer | undefined;
const realFetch = globalThis.fetch;
afterEach(async () => {
  globalThis.fetch = realFetch;
  releaseHeld();
  await server?.close();
  server = undefined;
});
it("shows the answer of a run that ends between the history and the resume", async () => {
  server = await start();
  const real = server;
  const session = "ends-between";
  holdRuns();
  const chat = nodeChat(`${real.url}/agents/holder/${session}/chat`, { id: session });
  const sent = chat.sendMessage({ text: "hold on" });
  await until("the hold", () => textOf(chat.messages[1]) === "Holding.");
  const runtime = () => real.session("holder", session).runtime;

  // The run ends right after the history answered, before the resume asks.
  globalThis.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url.includes("/chat-history")) {
      releaseHeld();
      await until("the run's end", () => runtime().status().status === "completed");
    }
    return response;
  };
  const reloaded = new AgentChat({ agent: "holder", id: session, baseUrl: real.url });
  await reloaded.load();
  await sent;
  expect(textOf(chat.messages[1])).toBe("Holding.Done.");
  expect(comparable(reloaded.messages)).toEqual(comparable(chat.messages));
});

it("restores a rewound run as its conversation shows it, and the restored chat answers its approval", async () => {
  server = await start();
  const real = server;
  const session = "rewound";
  const chat = nodeChat(`${real.url}/agents/payer/${session}/chat`, { id: session });
  await chat.sendMessage({ text: "pay the bill" });
  const runtime = () => real.session("payer", session).runtime;
  expect(runtime().status().status).toBe("waiting");
  // Back to the run's start (its run.started is checkpoint 1) with a new message.
  const rewind = await fetch(`${real.url}/agents/payer/${session}/resume`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mode: "from_checkpoint", checkpoint: "1", message: "pay it, please" }),
  });
  expect(rewind.status).toBe(202);
  await until("the wait again", () => runtime().status().status === "waiting");

  const restored = await loadChatMessages(`${real.url}/agents/payer/${session}`);
  expect(restored.map((m) => [m.role, textOf(m)])).toEqual([
    ["user", "pay the bill"],
    ["user", "pay it, please"],
    ["assistant", "Saving."],
  ]);
  const pays = restored[2]?.parts.filter((p) => p.type === "tool-pay");
  expect(pays).toMatchObject([{ state: "approval-requested" }]);

  const reloaded = nodeChat(`${real.url}/agents/payer/${session}/chat`, {
    id: session,
    messages: restored,
  });
  const waiting = pays?.[0] as { approval: { id: string } };
  await reloaded.addToolApprovalResponse({ id: waiting.approval.id, approved: true });
  await reloaded.sendMessage();
  expect(runtime().status().status).toBe("completed");
  expect(textOf(reloaded.lastMessage)).toBe('Saving.Result: {"paid":5}');
  const final = await loadChatMessages(`${real.url}/agents/payer/${session}`);
  expect(comparable(final)).toEqual(comparable(reloaded.messages));
});
