/**
 * The CLI's failed-run line for a model the agent cannot use: the real bin against the real
 * core handler (real-server.ts), the agent's model the real `@ai-sdk/openai` provider aimed
 * at the OpenAI fake, which answers 401 to a key that is not one (what `String(env.X)` gives
 * for a secret that is not set), as the real API does.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createOpenAI } from "@ai-sdk/openai";
import { defineAgent } from "@durable-agents/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeProvider } from "../../../test/support/provider-fakes/fake-server.ts";
import { startOpenAIFake } from "../../../test/support/provider-fakes/openai-fake.ts";
import type { RealServer } from "./real-server.ts";
import { ledger, start } from "./support.ts";

const BIN = fileURLToPath(new URL("../bin/durable-agents.mjs", import.meta.url));
const NODE = fileURLToPath(new URL("../../../node_modules/.bin/node", import.meta.url));

let fake: FakeProvider;
let server: RealServer;

const keyless = defineAgent({
  name: "keyless",
  system: "You are concise.",
  model: () =>
    createOpenAI({ apiKey: String(undefined), baseURL: `${fake.baseUrl}/v1` }).chat("gpt-4o-mini"),
});

beforeAll(async () => {
  fake = await startOpenAIFake();
  server = await start({ agents: [keyless] });
});
afterAll(async () => {
  await server.close();
  await fake.close();
});

function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { DURABLE_AGENTS_URL: _, ...base } = process.env;
  const child = spawn(NODE, [BIN, ...args], { env: { ...base, NO_COLOR: "1" } });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  child.stdout.resume();
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
}

describe("durable-agents chat, when the provider refuses the API key", () => {
  it("prints one failed-run line with model_auth_failed, the URL, and where to set the key; no retry lines", async () => {
    const result = await cli([
      "chat",
      "hi",
      "--agent",
      "keyless",
      "--session",
      "k1",
      "--url",
      server.url,
    ]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^run failed: openai\.chat \(model gpt-4o-mini\) at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions answered 401: Incorrect API key provided: undefined\..*; the provider refused the API key \(401\): set OPENAI_API_KEY .*in \.dev\.vars for wrangler dev, or as a secret when deployed \(wrangler secret put OPENAI_API_KEY\).* \(model_auth_failed\)$/,
    );
    expect(lines[1]).toBe(
      "Retry it with: durable-agents retry keyless/k1 (--from-start to begin it again)",
    );
    // The ledger has the failure, after one attempt.
    const events = ledger(server, "keyless", "k1");
    expect(events.filter((e) => e.kind === "step.started")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({
      kind: "run.failed",
      data: { error: { code: "model_auth_failed" } },
    });
  });
});
