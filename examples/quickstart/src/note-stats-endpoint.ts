import type { SessionEndpoint } from "@durable-agents/cloudflare";

/** `GET /agents/assistant/:session/note-stats`: `{ count, last }` from the projection. */
export const noteStatsEndpoint: SessionEndpoint = {
  method: "GET",
  action: "note-stats",
  handler: (_request, ctx) => {
    const stats = ctx.projection("note_stats");
    return Response.json({
      count: stats.get<number>("count") ?? 0,
      last: stats.get("last") ?? null,
    });
  },
};
