/** `durable-agents projections`: the application projections' status, or --rebuild one. */
import { defineCommand, EXIT } from "../context.ts";
import { target } from "./session.ts";

export const projections = defineCommand({
  name: "projections",
  summary: "list a session's application projections, or --rebuild one",
  usage: "<agent>/<session>",
  description: `Lists the server's application projections (defineProjection) with the version
each declares and the version this session's rows were built with; "needs_rebuild"
means they differ, and the projection is neither updated nor readable until it is
rebuilt. --rebuild <name> replays the ledger into it (needs the admin scope).`,
  examples: ["projections assistant/demo", "projections assistant/demo --rebuild note_stats"],
  options: {
    rebuild: { type: "string", value: "name", description: "rebuild this projection" },
  },
  async run({ values, positionals }, ctx) {
    const session = target(ctx, positionals, 1, "projections <agent>/<session>");
    if (values.rebuild !== undefined) {
      const status = await session.rebuildProjection(values.rebuild, { signal: ctx.signal });
      ctx.out(
        ctx.json
          ? `${JSON.stringify(status)}\n`
          : `rebuilt ${status.name} at version ${status.version}: ${status.status}\n`,
      );
      return EXIT.ok;
    }
    const list = await session.projections({ signal: ctx.signal });
    if (ctx.json) {
      ctx.out(`${JSON.stringify(list)}\n`);
      return EXIT.ok;
    }
    for (const p of list.projections) {
      const stored = p.storedVersion === null ? "never built" : `rows of v${p.storedVersion}`;
      const status = p.status === "current" ? p.status : ctx.style.red(p.status);
      ctx.out(`${p.name}  v${p.version}  ${status}  ${ctx.style.dim(stored)}\n`);
    }
    if (list.projections.length === 0) ctx.out(ctx.style.dim("no projections\n"));
    return EXIT.ok;
  },
});
