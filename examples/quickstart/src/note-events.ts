import { defineEvent, defineProjection } from "@durable-agents/core";
import * as z from "zod";

/**
 * The demo's own facts: the notes tools record them in the session's ledger beside the
 * runtime's events (as `app.note.added` and `app.notes.cleared`), so every reader sees them:
 * `tail`, AG-UI (`CUSTOM`), the UI stream (`data-app.note.added` parts).
 */
export const noteAdded = defineEvent("note.added", z.object({ text: z.string().min(1) }));
export const notesCleared = defineEvent("notes.cleared", z.object({ deleted: z.number() }));

/**
 * How many notes the session holds and the latest one, kept in the same transaction as each
 * event. Bump `version` if `reduce` changes: sessions then report `needs_rebuild`
 * (`durable-agents projections assistant/<session>`) until rebuilt with `--rebuild note_stats`.
 */
export const noteStats = defineProjection({
  name: "note_stats",
  version: 1,
  events: [noteAdded, notesCleared],
  reduce(store, event) {
    if (event.kind === "app.notes.cleared") {
      store.put("count", 0);
      store.delete("last");
      return;
    }
    store.put("count", (store.get<number>("count") ?? 0) + 1);
    store.put("last", event.payload.text);
  },
});
