/**
 * The resume stream of a rewound run, with the AI SDK's own `Chat` on the real handler: a run
 * rewound to a checkpoint (POST .../resume from_checkpoint) and running again is resumed
 * (`GET /chat/:agent/:id/stream`, useChat's `resumeStream`) as its conversation shows it,
 * without what the rewind took back: the resumed chat is what `GET .../chat-history` restores
 * once the run ends, each tool call once.
 */
import { defineAgent, defineTool, scriptedModel } from "@durable-agents/core";
import type { UIMessage } from "ai";
import { afterEach, expect, it } from "vitest";
import * as z from "zod";
import { comparable, nodeChat, textOf } from "../../../test/support/node-chat.ts";
import { AgentChat, loadChatMessages } from "../src/agent-chat.ts";
import { pay } from "./agents.ts";
import type { RealServer } from "./real-server.ts";
import { start, until } from "./support.ts";

let release = () => {};
let gate = Promise.resolve();
/** Set before the rewind: the model then answers with the held call instead of the payment. */
let rewound = false;

const hold = defineTool({
  name: "hold",
  description: "Waits for the test.",
  input: z.object({}),
  effect: "idempotent",
  execute: () => gate.then(() => "released"),
});

/** Asks to pay (a wait for approval); rewound, calls `hold` instead (running until released). */
const rewinder = defineAgent({
  name: "rewinder",
  system: "You pay, or hold.",
  tools: [pay, hold],
  model: scriptedModel({
    rules: [
      ({ turn }) =>
        turn > 0
          ? { text: "Done." }
          : {
              text: "Saving.",
              toolCalls: [
                rewound ? { name: "hold", args: {} } : { name: "pay", args: { amount: 5 } },
              ],
            },
    ],
  }),
});

let server: RealServer | undefined;
afterEach(async () => {
  release();
  rewound = false;
  await server?.close();
  server = undefined;
});
const toolCallIds = (message: UIMessage | undefined) =>
  (message?.parts ?? []).flatMap((p) =>
    "toolCallId" in p && typeof p.toolCallId === "string" ? [p.toolCallId] : [],
  );

it("resumes a rewound run without what the rewind took back, as chat-history restores it", async () => {
  server = await start({ agents: [rewinder] });
  const real = server;
  const session = "rewound-resume";
  const runtime = () => real.session("rewinder", session).runtime;
  const chat = nodeChat(`${real.url}/agents/rewinder/${session}/chat`, { id: session });
  await chat.sendMessage({ text: "pay the bill" });
  expect(runtime().status().status).toBe("waiting");

  // Back to the run's start (checkpoint 1) with a new message; the run then holds, running.
  gate = new Promise((resolve) => {
    release = resolve;
  });
  rewound = true;
  const rewind = await fetch(`${real.url}/agents/rewinder/${session}/resume`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ mode: "from_checkpoint", checkpoint: "1", message: "hold it, please" }),
  });
  expect(rewind.status).toBe(202);
  await until("the held call", () =>
    runtime()
      .ledger.read(0, 1000)
      .some((e) => e.kind === "tool.started"),
  );

  // A reload mid-run: the history leaves the active run to the resume stream.
  const reloaded = new AgentChat({ agent: "rewinder", id: session, baseUrl: real.url });
  const loaded = reloaded.load();
  await until("the resumed answer", () => textOf(reloaded.lastMessage).startsWith("Saving."));
  release();
  await loaded;
  await until("the run's end", () => runtime().status().status === "completed");

  const answer = reloaded.lastMessage;
  expect(textOf(answer)).toBe("Saving.Done.");
  const ids = toolCallIds(answer);
  expect(new Set(ids).size).toBe(ids.length);
  expect(answer?.parts.filter((p) => p.type === "tool-pay")).toEqual([]);
  const final = await loadChatMessages(`${real.url}/agents/rewinder/${session}`);
  expect(comparable(reloaded.messages)).toEqual(comparable(final));
});
