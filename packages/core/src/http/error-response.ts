import { DurableAgentsError } from "../errors/base.ts";

/** The one place that renders errors as wire responses: `{"error":{"code","message","details?"}}`. */
export function errorResponse(error: unknown, onInternal?: (error: unknown) => void): Response {
  if (error instanceof DurableAgentsError) {
    return Response.json(error.toJSON(), { status: error.status, headers: error.headers });
  }
  onInternal?.(error);
  return Response.json(
    { error: { code: "internal", message: "internal error; the server log has the cause" } },
    { status: 500 },
  );
}
