/**
 * The README's agent bundled with the wrangler `alias` that drops zod's non-English locales
 * (bench/bundle/readme-alias; docs/benchmarks.md, "Bundle size") still works under
 * `wrangler dev`: `@ai-sdk/openai` parses the OpenAI fake's stream with its zod schemas, and
 * a tool input that fails its zod schema gets zod's English message.
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeProvider } from "../support/provider-fakes/fake-server.ts";
import { startOpenAIFake } from "../support/provider-fakes/openai-fake.ts";
import { startWranglerDev, type WranglerDev } from "../support/wrangler-dev.ts";
import { isTerminal, startRun, tempState, waitForLedger } from "./e2e-support.ts";

describe("the README agent with zod's locales aliased away", () => {
  let fake: FakeProvider;
  let dev: WranglerDev;
  let state: string;
  beforeAll(async () => {
    fake = await startOpenAIFake();
    state = tempState("e2e-zod-alias");
    dev = await startWranglerDev({
      cwd: resolve(import.meta.dirname, "../../bench/bundle/readme-alias"),
      persistTo: state,
      vars: { OPENAI_API_KEY: "test", OPENAI_BASE_URL: `${fake.baseUrl}/v1` },
    });
  });
  afterAll(async () => {
    await dev?.stop();
    await fake?.close();
    rmSync(state, { recursive: true, force: true });
  });

  it("streams a run through @ai-sdk/openai, and a bad tool input gets zod's English message", async () => {
    fake.enqueue({
      type: "reply",
      turn: { toolCalls: [{ name: "to_fahrenheit", args: { celsius: "hot" } }] },
    });
    await startRun(dev.baseUrl, "aliased", "How hot is hot?");
    const events = await waitForLedger(dev.baseUrl, "aliased", (e) => e.some(isTerminal));
    const failed = events.find((e) => e.kind === "tool.failed");
    expect(failed?.data).toMatchObject({ name: "to_fahrenheit" });
    expect(JSON.stringify(failed?.data)).toMatch(/expected number, received string/);
    expect(events.at(-1)).toMatchObject({
      kind: "run.completed",
      data: { output: "Hello from the fake provider." },
    });
  });
});
