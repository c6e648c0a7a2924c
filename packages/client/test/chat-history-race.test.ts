/**
 * AgentChat.load asks the history, then resumes the active run: a run that ends between the two
 * requests is in neither (the history left it to the resume, the resume answers 204). The
 * restored chat must still show its answer.
 */
import { afterEach, expect, it } from "vitest";
import { comparable, nodeChat, textOf } from "../../../test/support/node-chat.ts";
import { AgentChat } from "../src/agent-chat.ts";
import { holdRuns, releaseHeld } from "./agents.ts";
import type { RealServer } from "./real-server.ts";
import { start } from "./support.ts";

let server: RealServer | undefined;
const realFetch = globalThis.fetch;
afterEach(async () => {
  globalThis.fetch = realFetch;
  releaseHeld();
  await server?.close();
  server = undefined;
});

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

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
