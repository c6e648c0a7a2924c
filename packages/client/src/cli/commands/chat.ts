import { UsageError } from "../args.ts";
import { defineCommand } from "../context.ts";
import { followToExit } from "../follow.ts";

export const chat = defineCommand({
  name: "chat",
  summary: "send a message, stream the answer live",
  help: `Usage: durable-agents chat "<message>" [--agent assistant] [--session <id>] [--url <url>] [--json]

Starts a run with your message and streams the answer as it is written,
with tool calls (→) and their results (←). Prints the session id at the end;
pass it back with --session to continue the conversation.

Options:
  --agent <name>    agent to talk to (default: assistant)
  --session <id>    session to use (default: a new random id)
  --url <url>       server (default: $DURABLE_AGENTS_URL or http://127.0.0.1:8787)
  --json            print the run's ledger events as NDJSON instead of text

Ctrl-C detaches: the run goes on in the server and the CLI says how to
follow or stop it.

Exit status: 0 when the run completes (or waits for approval), 1 when it
fails, is aborted or interrupted, or the server cannot be reached.`,
  options: {
    agent: { type: "string", default: "assistant" },
    session: { type: "string" },
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
