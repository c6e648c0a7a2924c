import { defineTool } from "@durable-agents/core";
import * as z from "zod";
import { noteAdded } from "../note-events.ts";

const CREATE =
  "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, call_key TEXT NOT NULL UNIQUE)";

/**
 * Stores notes in the session's own SQLite. The insert is staged with
 * `ctx.transaction`, so it commits in the same transaction as the tool's
 * result: after a crash either both exist or neither does, and the note is
 * written exactly once. Its `note.added` event commits with them, and the `note_stats`
 * projection (note-events.ts) counts it in the same transaction.
 */
export const notes = defineTool({
  name: "notes",
  description:
    'Saves a note ({"action":"add","text":"..."}) or lists saved notes ({"action":"list"}).',
  // One object at the root (providers refuse a top-level union); `text` is checked per action.
  input: z
    .object({
      action: z.enum(["add", "list"]),
      text: z.string().min(1).max(2000).optional().describe("The note, for action add"),
    })
    .refine((input) => input.action !== "add" || input.text !== undefined, {
      message: 'action "add" needs the text of the note',
      path: ["text"],
    }),
  effect: "idempotent",
  execute: (input, ctx) => {
    ctx.query(CREATE);
    const saved = ctx
      .query<{ text: string }>("SELECT text FROM notes ORDER BY id")
      .map((row) => row.text);
    const { action, text } = input;
    if (action === "list" || text === undefined) return { notes: saved };
    ctx.transaction((sql) => {
      sql.exec("INSERT INTO notes (text, call_key) VALUES (?, ?)", text, ctx.idempotencyKey);
    });
    ctx.emit(noteAdded, { text });
    return { saved: text, count: saved.length + 1 };
  },
});
