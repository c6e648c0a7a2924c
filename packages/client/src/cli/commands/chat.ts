import type { StartFields } from "../../types.ts";
import { parseJsonFlag, UsageError } from "../args.ts";
import { defineCommand, openSession } from "../context.ts";
import { followToExit } from "../follow.ts";

export const chat = defineCommand({
  name: "chat",
  summary: "send a message, stream the answer live",
  usage: '"<message>"',
  description: `Starts a run with your message and streams the answer as it is written,
with tool calls (→) and their results (←). Prints the session id at the end;
pass it back with --session to continue the conversation.

Ctrl-C detaches: the run goes on in the server and the CLI says how to
follow or stop it.

Exit status: 0 when the run completes (or waits for approval), 1 when it
fails, is aborted or interrupted, or the server cannot be reached.`,
  examples: [
    'chat "What is 2+3?"',
    'chat "remember to buy milk" --session demo',
    'chat "triage it" --metadata \'{"ticket":"T-42"}\' --state \'{"count":5}\'',
  ],
  options: {
    agent: { type: "string", default: "assistant", value: "name", description: "agent to talk to" },
    session: {
      type: "string",
      value: "id",
      description: "session to use (default: a new random id)",
    },
    state: {
      type: "string",
      value: "json",
      description: "application state to start the run from (JSON)",
    },
    metadata: {
      type: "string",
      value: "json",
      description: "the app's metadata for the run, a JSON object (hooks and onComplete see it)",
    },
  },
  async run({ values, positionals }, ctx) {
    const message = positionals.join(" ").trim();
    if (message === "")
      throw new UsageError('missing the message, e.g. durable-agents chat "What is 2+3?"');
    const sessionId = values.session ?? newSessionId();
    const session = openSession(ctx, values.agent, sessionId);
    const run = await session.start(message, {
      signal: ctx.signal,
      ...(values.state !== undefined ? { state: parseJsonFlag("state", values.state) } : {}),
      ...(values.metadata !== undefined
        ? { metadata: parseJsonFlag("metadata", values.metadata) as StartFields["metadata"] }
        : {}),
    });
    const code = await followToExit(ctx, session, run);
    if (!ctx.json) ctx.out(ctx.style.dim(`session: ${sessionId}\n`));
    return code;
  },
});

function newSessionId(): string {
  return `s-${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}
