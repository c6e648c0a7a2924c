import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  defineAgent,
  defineTool,
  latestRun,
  OUTBOX_KIND,
  outboxProjection,
  scriptedModel,
  type TriggerHandler,
} from "../src/index.ts";
import { createTestSession } from "../src/testing/index.ts";

const asker = defineAgent({
  name: "asker",
  system: "",
  tools: [
    defineTool({
      name: "sign",
      description: "Needs a human.",
      input: z.object({}),
      effect: "irreversible",
      needsApproval: true,
      execute: () => "signed",
    }),
  ],
  model: scriptedModel({ turns: [{ toolCalls: [{ name: "sign", args: {} }] }, { text: "ok" }] }),
});

describe("every wake-up goes through the runtime's wake port", () => {
  it("work an append queues outside the alarm (an outbox message on interrupting a waiting run) arms the wake-up", async () => {
    const delivered: unknown[] = [];
    const deliver: TriggerHandler = {
      async run(payload) {
        delivered.push(payload);
        return { type: "done" };
      },
      giveUp: () => undefined,
    };
    const s = createTestSession(asker, {
      projections: [
        outboxProjection("interrupts", 1, (event) =>
          event.kind === "run.interrupted" ? [{ topic: "t", key: "k", payload: event.seq }] : [],
        ),
      ],
      triggers: new Map([[OUTBOX_KIND, deliver]]),
    });
    await s.runtime.start({ message: "sign it" });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("waiting");
    expect(s.wakeAt()).toBeNull();
    // Interrupting a waiting run asks for no wake-up itself; the queued message must.
    await s.runtime.interrupt("later");
    expect(s.wakeAt()).toBe(s.clock.now());
    await s.drain();
    expect(delivered).toHaveLength(1);
    expect(s.wakeAt()).toBeNull();
  });
});
