import { UsageError } from "../args.ts";
import { defineCommand } from "../context.ts";
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
  examples: ['chat "What is 2+3?"', 'chat "remember to buy milk" --session demo'],
  options: {
    agent: { type: "string", default: "assistant", value: "name", description: "agent to talk to" },
    session: {
      type: "string",
      value: "id",
      description: "session to use (default: a new random id)",
    },
  },
  async run({ values, positionals }, ctx) {
    const message = positionals.join(" ").trim();
    if (message === "")
      throw new UsageError('missing the message, e.g. durable-agents chat "What is 2+3?"');
    const sessionId = values.session ?? newSessionId();
    const session = ctx.client.session(values.agent, sessionId);
    const run = await session.start(message, { signal: ctx.signal });
    const code = await followToExit(ctx, session, run);
    if (!ctx.json) ctx.out(ctx.style.dim(`session: ${sessionId}\n`));
    return code;
  },
});

function newSessionId(): string {
  return `s-${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}
