import { defineTool } from "@durable-agents/core";
import * as z from "zod";
import { notesCleared } from "../note-events.ts";

/**
 * Deletes every note of the session. Destructive, so a human approves each call first
 * (`needsApproval`): the run waits, costing nothing, until the approval arrives through
 * `POST .../resume`, the WebSocket, AG-UI `resume[]` or useChat's `addToolApprovalResponse`.
 */
export const clearNotes = defineTool({
  name: "clear_notes",
  description: "Deletes all saved notes. Needs a human's approval.",
  input: z.object({}),
  effect: "idempotent",
  needsApproval: true,
  execute: (_input, ctx) => {
    ctx.query(
      "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, call_key TEXT NOT NULL UNIQUE)",
    );
    const [row] = ctx.query<{ n: number }>("SELECT count(*) AS n FROM notes");
    ctx.transaction((sql) => {
      sql.exec("DELETE FROM notes");
    });
    ctx.emit(notesCleared, { deleted: row?.n ?? 0 });
    return { deleted: row?.n ?? 0 };
  },
});
