/**
 * Tier 3: the quickstart under `wrangler dev` with `@ai-sdk/openai` aimed at a closed loopback
 * port, as a newcomer's unreachable endpoint: workerd's fetch rejects with a plain Error the
 * AI SDK does not wrap. The CLI, after the pump's retries, prints one failed-run line whose
 * code and message say the provider could not be reached and what to check; the ledger has
 * the failure.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type WranglerDev } from "../support/wrangler-dev.ts";
import { readLedger, runCli, startQuickstart, tempState } from "./e2e-support.ts";

describe("the quickstart with an unreachable OpenAI endpoint", () => {
  let dev: WranglerDev;
  let state: string;
  beforeAll(async () => {
    const port = await freePort();
    state = tempState("e2e-unreachable");
    dev = await startQuickstart(state, {
      OPENAI_API_KEY: "sk-test",
      OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    });
  });
  afterAll(async () => {
    await dev?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  it("the CLI's failed-run line says model_unreachable and what to check, after the retries", async () => {
    const result = await runCli(
      ["chat", "hi", "--session", "unreachable", "--url", dev.baseUrl],
      120_000,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /run failed: could not reach openai\.chat \(model gpt-4o-mini\): .+; check the network and the provider's baseURL \(e\.g\. OPENAI_BASE_URL in \.dev\.vars, when the agent's model reads it\), and that the provider is up \(model_unreachable\)\n/,
    );
    const events = await readLedger(dev.baseUrl, "unreachable");
    expect(events.filter((e) => e.kind === "step.started").length).toBeGreaterThan(1);
    expect(events.at(-1)).toMatchObject({
      kind: "run.failed",
      data: { error: { code: "model_unreachable" } },
    });
  });
});
