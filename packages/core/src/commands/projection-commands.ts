import * as z from "zod/mini";
import { closedObject } from "../validation/fields.ts";
import { defineCommand } from "./command.ts";

export const rebuildInput = closedObject("a projection rebuild", {
  rebuild: z
    .string({ error: 'send {"rebuild":"<projection name>"}: the projection to rebuild' })
    .check(z.minLength(1), z.maxLength(64)),
});

/**
 * `POST .../projections` `{rebuild}` → 200 ProjectionStatus: drops an application projection's
 * rows and replays the ledger into it (in batches, one transaction). 404 `unknown_projection`.
 * Needs `admin`: it rewrites derived rows for the whole session.
 */
export const rebuildProjectionCommand = defineCommand({
  name: "projection.rebuild",
  scope: "admin",
  input: rebuildInput,
  what: "the rebuild body",
  http: { method: "POST", action: "projections" },
  async run({ runtime }, { rebuild }) {
    return { status: 200, result: runtime.projections.rebuild(rebuild) };
  },
});
