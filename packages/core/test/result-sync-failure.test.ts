/**
 * `tool_result_not_recorded` names only a result that could not be appended: a durability
 * wait that fails after the result committed is the storage's error, retried as such, and the
 * result stays recorded once (tool-step.ts, `commitOutcome`).
 */
import { describe, expect, it } from "vitest";
import * as z from "zod";
import type { AnyTool } from "../src/agent/define-tool.ts";
import { defineAgent, defineTool, latestRun, scriptedModel } from "../src/index.ts";
import { createTestSession, type TestSession } from "../src/testing/index.ts";

function agentCalling(tools: AnyTool[]) {
  return defineAgent({
    name: "errs",
    system: "test",
    tools,
    model: scriptedModel({
      rules: [
        ({ turn }) =>
          turn === 0
            ? { toolCalls: tools.map((t, i) => ({ name: t.name, args: { n: i } })) }
            : { text: "done" },
      ],
    }),
  });
}

async function settle(s: TestSession): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await s.drain();
    const at = s.wakeAt();
    if (at === null || at <= s.clock.now()) return;
    s.clock.advance(at - s.clock.now());
  }
}

describe("a durability wait that fails after a result committed", () => {
  it("a durability wait that fails after the result committed does not say the result was not recorded", async () => {
    const logged: string[] = [];
    let syncs = 0;
    const pay = defineTool({
      name: "pay",
      description: "irreversible",
      input: z.object({ n: z.number() }),
      effect: "irreversible",
      execute: () => ({ paid: true }),
    });
    const s = createTestSession(agentCalling([pay]), {
      // The start's sync passes; the result's sync fails once.
      durable: async () => {
        if (++syncs === 2) throw new Error("sync failed (simulated)");
      },
      logger: {
        debug: () => {},
        info: () => {},
        warn: (m: string, f?: unknown) => logged.push(`${m} ${JSON.stringify(f)}`),
        error: (m: string, f?: unknown) => logged.push(`${m} ${JSON.stringify(f)}`),
        child() {
          return this;
        },
      } as never,
    });
    await s.runtime.start({ message: "go" });
    await settle(s);
    const kinds = s.runtime.ledger.read(0).map((e) => e.kind);
    expect(kinds.filter((k) => k === "tool.completed")).toHaveLength(1);
    expect(latestRun(s.sql)?.status).toBe("completed");
    // What the step's failure said while it was retried:
    const said = logged.join("\n");
    expect(said).not.toMatch(/result could not be recorded/);
  });
});
