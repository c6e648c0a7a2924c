import * as z from "zod";
import { LIMITS } from "../limits.ts";
import { readBody } from "../read-json.ts";
import type { RouteTable } from "../route.ts";

const startSchema = z.object({
  input: z.object({
    message: z.string().min(1).max(LIMITS.maxMessageChars),
  }),
});

const reasonSchema = z.object({ reason: z.string().max(1000).optional() });

const bodyOptions = { maxBytes: LIMITS.maxBodyBytes, optional: true };

/** Starting and stopping runs. */
export const runRoutes: RouteTable = {
  runs: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, startSchema, "the run start body", {
        maxBytes: LIMITS.maxBodyBytes,
      });
      const started = await runtime.start(body.input);
      const { session, agent } = runtime.status();
      return Response.json({ ...started, session, agent }, { status: 202 });
    },
  },
  interrupt: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, reasonSchema, "the interrupt body", bodyOptions);
      return Response.json(await runtime.interrupt(body.reason), { status: 202 });
    },
  },
  close: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, reasonSchema, "the close body", bodyOptions);
      return Response.json(await runtime.close(body.reason));
    },
  },
  abort: {
    POST: async (request, { runtime }) => {
      const body = await readBody(request, reasonSchema, "the abort body", bodyOptions);
      return Response.json(await runtime.abort(body.reason), { status: 202 });
    },
  },
};
