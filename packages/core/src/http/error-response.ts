import { DurableAgentsError } from "../errors/base.ts";

/**
 * The one place that renders errors as wire responses: `{"error":{"code","message","details?"}}`.
 * Every 5xx goes to `onInternal` (the caller's logger) first; it is required so that no
 * boundary can answer a 500 without logging its cause.
 */
export function errorResponse(error: unknown, onInternal: (error: unknown) => void): Response {
  if (error instanceof DurableAgentsError) {
    if (error.status >= 500) onInternal(error);
    return Response.json(error.toJSON(), { status: error.status, headers: error.headers });
  }
  onInternal(error);
  return Response.json(
    { error: { code: "internal", message: "internal error; the server log has the cause" } },
    { status: 500 },
  );
}
