/**
 * `createClient({ token })`: a token sent on every request (docs/client.md#tokens).
 */
import type { WebSocketConstructor, WebSocketLike } from "./http.ts";

/**
 * What the client sends a token with: `authorization: Bearer <token>` on every HTTP request
 * (routes, SSE and long-poll reads), and `?token=` on the session WebSocket, where Node's
 * WebSocket, like a browser's, sets no headers (the server reads either; docs/api.md#auth).
 */
export function tokenOptions(
  token: string,
  Socket: WebSocketConstructor | undefined = globalThis.WebSocket as unknown as
    | WebSocketConstructor
    | undefined,
): { headers: Record<string, string>; WebSocket?: WebSocketConstructor } {
  const headers = { authorization: `Bearer ${token}` };
  if (Socket === undefined) return { headers };
  const open = (url: string): WebSocketLike => {
    const withToken = new URL(url);
    withToken.searchParams.set("token", token);
    return new Socket(withToken.toString());
  };
  const WithToken = class {
    constructor(url: string) {
      // biome-ignore lint/correctness/noConstructorReturn: the socket itself, opened at the URL with the token
      return open(url);
    }
  } as unknown as WebSocketConstructor;
  return { headers, WebSocket: WithToken };
}
