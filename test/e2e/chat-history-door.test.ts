/**
 * GET .../chat-history through the real Worker under `wrangler dev` with AUTH_SECRET set: the
 * session door's checks (a token, its session, its read scope) hold for it, over HTTP and the
 * useChat URLs, and a stream token does not reach it through /v1/stream.
 */
import { rmSync } from "node:fs";
import { mintSessionToken, mintStreamToken } from "@durable-agents/core";
import { afterAll, expect, it } from "vitest";
import type { WranglerDev } from "../support/wrangler-dev.ts";
import { startQuickstart, tempState } from "./e2e-support.ts";

let dev: WranglerDev | undefined;
const state = tempState("e2e-chat-history-door");
afterAll(async () => {
  await dev?.stop();
  rmSync(state, { recursive: true, force: true });
});

it("needs a token for the session with the read scope, on every door", async () => {
  const secret = "e2e-only-secret-0123456789abcdef0123456789";
  dev = await startQuickstart(state, { AUTH_SECRET: secret });
  const base = dev.baseUrl;
  const url = `${base}/agents/assistant/hist-1/chat-history`;
  const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const readWrite = await mintSessionToken(secret, { agent: "assistant", session: "hist-1" });
  const start = await fetch(`${base}/agents/assistant/hist-1/runs`, {
    method: "POST",
    headers: { ...as(readWrite).headers, "content-type": "application/json" },
    body: JSON.stringify({ input: { message: "What is 2+3?" } }),
  });
  expect(start.status).toBe(202);

  const statuses: Record<string, number> = {};
  statuses.none = (await fetch(url)).status;
  statuses.garbage = (await fetch(url, as("garbage"))).status;
  statuses.writeOnly = (
    await fetch(
      url,
      as(
        await mintSessionToken(secret, { agent: "assistant", session: "hist-1", scope: ["write"] }),
      ),
    )
  ).status;
  statuses.otherSession = (
    await fetch(url, as(await mintSessionToken(secret, { agent: "assistant", session: "hist-2" })))
  ).status;
  statuses.otherAgent = (
    await fetch(
      url,
      as(await mintSessionToken(secret, { agent: "assistant-wf", session: "hist-1" })),
    )
  ).status;
  statuses.streamToken = (
    await fetch(url, as(await mintStreamToken(secret, { prefix: "" })))
  ).status;
  statuses.queryToken = (await fetch(`${url}?token=${readWrite}`)).status;
  statuses.viaStreamDoor = (
    await fetch(
      `${base}/v1/stream/agents/assistant/hist-1/chat-history`,
      as(await mintStreamToken(secret, { prefix: "" })),
    )
  ).status;
  statuses.viaChatDoor = (await fetch(`${base}/chat/assistant/hist-1/chat-history`)).status;
  const readOnly = await mintSessionToken(secret, {
    agent: "assistant",
    session: "hist-1",
    scope: ["read"],
  });
  const ok = await fetch(url, as(readOnly));
  statuses.readOnly = ok.status;
  const page = (await ok.json()) as { turns: { messages: unknown[] }[] };
  expect(statuses).toMatchObject({
    none: 401,
    garbage: 401,
    writeOnly: 403,
    otherSession: 403,
    otherAgent: 403,
    streamToken: 403,
    queryToken: 200,
    // Neither door reaches the session route: a stream of that name, and no chat route.
    viaStreamDoor: 404,
    viaChatDoor: 404,
    readOnly: 200,
  });
  expect(page.turns).toHaveLength(1);
});
