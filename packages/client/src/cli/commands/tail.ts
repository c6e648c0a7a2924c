import type { EventsTransport } from "../../event-stream.ts";
import { exactlyPositionals, parseOffset, parseTarget, UsageError } from "../args.ts";
import { defineCommand, EXIT, openSession } from "../context.ts";
import { formatTailLine } from "../render.ts";

const TRANSPORTS: readonly EventsTransport[] = ["sse", "ws", "long-poll", "catch-up"];

export const tail = defineCommand({
  name: "tail",
  summary: "follow a session's ledger, one event per line",
  usage: "<agent>/<session>",
  description: `Prints the session's ledger events one per line (offset, time, run, kind,
data) and follows new ones live until Ctrl-C or the stream closes. Reconnects
by itself after a drop, without losing or repeating events.`,
  examples: ["tail assistant/demo", "tail assistant/demo --offset now --transport ws"],
  options: {
    offset: {
      type: "string",
      value: "offset",
      description:
        "start after this offset: one printed by tail, an event number (12), -1 for the start (default) or now for new events only",
    },
    transport: {
      type: "string",
      default: "sse",
      value: "t",
      description: "sse, ws (Node 22 or later), long-poll, or catch-up (stop when caught up)",
    },
  },
  async run({ values, positionals }, ctx) {
    exactlyPositionals(positionals, 1, "tail <agent>/<session>");
    const { agent, session } = parseTarget(positionals[0]);
    const transport = values.transport as EventsTransport;
    if (!TRANSPORTS.includes(transport)) {
      throw new UsageError(`--transport must be one of ${TRANSPORTS.join(", ")}`);
    }
    // Node 20 has no global WebSocket (Node 22 does). Node 20 is past its end of life, and sse
    // reads the same events with the same resume, so the CLI says so rather than carry a
    // WebSocket package for it (docs/client.md, CLI).
    if (transport === "ws" && globalThis.WebSocket === undefined) {
      throw new UsageError(
        `--transport ws needs Node 22 or later, which has a WebSocket (this is Node ${process.version}); use --transport sse (the default) on Node 20: the same events, resumed the same way`,
      );
    }
    const target = openSession(ctx, agent, session);
    // A mistyped id would otherwise wait in silence: say what it waits for.
    const status = await target.status({ signal: ctx.signal });
    if (status.exists === false)
      ctx.err(
        ctx.style.dim(
          `${agent}/${session} has no events yet (no such session so far); waiting for its first event (Ctrl-C stops)\n`,
        ),
      );
    const stream = target.events({
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
