import { MethodNotAllowedError, NotFoundError } from "../errors/http-errors.ts";
import { chatHistoryRoutes } from "./chat/chat-history.ts";
import { chatRoutes } from "./chat/chat-routes.ts";
import type { RouteTable, SessionHttpContext } from "./route.ts";
import { controlRoutes } from "./routes/control-routes.ts";
import { platformRoutes } from "./routes/platform-routes.ts";
import { projectionRoutes } from "./routes/projection-routes.ts";
import { readRoutes } from "./routes/read-routes.ts";
import { runRoutes } from "./routes/run-routes.ts";
import { scheduleRoutes } from "./routes/schedule-routes.ts";
import { stateRoutes } from "./routes/state-routes.ts";
import { wireRoutes } from "./routes/wire-routes.ts";

export type { RouteTable, SessionHttpContext, SessionRoute } from "./route.ts";

/** Every session route, by group. A new group is one file in routes/ and one line here. */
const ROUTES: RouteTable = {
  ...runRoutes,
  ...readRoutes,
  ...controlRoutes,
  ...platformRoutes,
  ...wireRoutes,
  ...chatRoutes,
  ...chatHistoryRoutes,
  ...scheduleRoutes,
  ...stateRoutes,
  ...projectionRoutes,
};

/**
 * The session's WebSocket route, declared once: served by the host's transport (on Cloudflare
 * the object's hibernatable socket, `websocket-hub.ts`), not by the route table, and named
 * with the table's routes wherever those are listed (`sessionActions`).
 */
export const SOCKET_ROUTE = { action: "ws", method: "GET" } as const;

/**
 * The built-in session actions: the route table's and the WebSocket's (SOCKET_ROUTE). Custom
 * endpoints with another name get their own 405s.
 */
export function sessionActions(): string[] {
  return [...Object.keys(ROUTES), SOCKET_ROUTE.action];
}

/**
 * Every built-in session route: action → its methods (the WebSocket, `ws`, is served apart).
 * The doors' tests walk it, so a route added here is checked at the door like the others.
 */
export function sessionRoutes(): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(ROUTES).map(([action, methods]) => [action, Object.keys(methods)]),
  );
}

/** Routes `/agents/:agent/:session/:action` inside the session's object. */
export async function handleSessionRequest(
  request: Request,
  action: string,
  ctx: SessionHttpContext,
): Promise<Response> {
  if (action === SOCKET_ROUTE.action) {
    // Its host serves the upgrade before this handler; what reaches here is another method, or
    // a host without sockets.
    if (request.method !== SOCKET_ROUTE.method)
      throw new MethodNotAllowedError(request.method, `.../${action}`, [SOCKET_ROUTE.method]);
    throw new NotFoundError(
      "unknown_route",
      "this server does not serve the session WebSocket (GET .../ws); read the ledger live with GET .../events?live=sse",
    );
  }
  const routes = ROUTES[action];
  if (!routes) {
    throw new NotFoundError(
      "unknown_route",
      `no session route "${action.slice(0, 40)}"; use one of: ${sessionActions().join(", ")}`,
    );
  }
  const route = routes[request.method];
  if (!route) throw new MethodNotAllowedError(request.method, `.../${action}`, Object.keys(routes));
  return route(request, ctx);
}
