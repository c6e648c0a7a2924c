import type { EventsTransport } from "../../event-stream.ts";
import { exactlyPositionals, parseOffset, parseTarget, UsageError } from "../args.ts";
import { defineCommand, EXIT } from "../context.ts";
import { formatTailLine } from "../render.ts";

const TRANSPORTS: readonly EventsTransport[] = ["sse", "ws", "long-poll", "catch-up"];

export const tail = defineCommand({
  name: "tail",
  summary: "follow a session's ledger, one event per line",
  help: `Usage: durable-agents tail <agent>/<session> [--offset <offset>] [--url <url>] [--json]

Prints the session's ledger events one per line (offset, time, run, kind,
data) and follows new ones live until Ctrl-C or the stream closes. Reconnects
by itself after a drop, without losing or repeating events.

Options:
  --offset <offset>   start after this offset: one printed by tail, an event
                      number (12), -1 for the start (default) or now for new
                      events only
  --transport <t>     sse (default), ws, long-poll, or catch-up (stop when caught up)
  --json              print events as NDJSON`,
  options: {
    offset: { type: "string" },
    transport: { type: "string", default: "sse" },
  },
  async run({ values, positionals }, ctx) {
    exactlyPositionals(positionals, 1, "tail <agent>/<session>");
    const { agent, session } = parseTarget(positionals[0]);
    const transport = values.transport as EventsTransport;
    if (!TRANSPORTS.includes(transport)) {
      throw new UsageError(`--transport must be one of ${TRANSPORTS.join(", ")}`);
    }
    const stream = ctx.client.session(agent, session).events({
      offset: parseOffset(values.offset) ?? "-1",
      transport,
      signal: ctx.signal,
      retry: ctx.retry,
    });
    ctx.onDetach = () => `stopped at offset ${stream.position.offset}\n`;
    for await (const event of stream) {
      ctx.out(ctx.json ? `${JSON.stringify(event)}\n` : `${formatTailLine(event, ctx.style)}\n`);
    }
    if (stream.position.closed) ctx.err(ctx.style.dim("stream closed\n"));
    return EXIT.ok;
  },
});
