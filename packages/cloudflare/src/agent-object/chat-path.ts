import { BadRequestError, bodyLimit, readJsonBytes } from "@durable-agents/core";

/**
 * The AI SDK's chat URLs, as `DefaultChatTransport({ api: "/chat/<agent>" })` calls them (ai v7,
 * `HttpChatTransport`): `POST /chat/:agent` with the chat id in the JSON body, and
 * `GET /chat/:agent/:id/stream` to resume. Both become the session route
 * `/agents/:agent/:id/chat` (chat id = session id), so the session's auth, hooks and custom
 * endpoints apply to them unchanged.
 */
export const CHAT_ROOT = "/chat/";

/** The chat URLs `chatRoute` serves, as the 404 of a path that is no route names them. */
export const CHAT_ROUTES: readonly string[] = [
  `POST ${CHAT_ROOT}:agent`,
  `GET ${CHAT_ROOT}:agent/:id/stream`,
];

/** The request rewritten onto its session route; undefined when it is not a chat URL. */
export async function chatRoute(request: Request): Promise<Request | undefined> {
  const url = new URL(request.url);
  const parts = url.pathname.split("/");
  const [, root, agent = "", id, tail, ...rest] = parts;
  if (root !== "chat" || agent === "" || rest.length > 0) return undefined;
  if (id === undefined && request.method === "POST") {
    // Core's one JSON reader: its media type check and limits, before the session is chosen.
    const { value, bytes: body } = await readJsonBytes(request, bodyLimit("chat"));
    const session = chatId(value);
    url.pathname = `/agents/${agent}/${encodeURIComponent(session)}/chat`;
    // (An ArrayBuffer's view, never a SharedArrayBuffer's: what DOM's BodyInit asks, where the
    // client tests' server, which routes by this function too, is type-checked.)
    return new Request(url, {
      method: "POST",
      headers: request.headers,
      body: body as Uint8Array<ArrayBuffer>,
    });
  }
  if (id !== undefined && id !== "" && tail === "stream" && request.method === "GET") {
    url.pathname = `/agents/${agent}/${id}/chat`;
    return new Request(url, request);
  }
  return undefined;
}

function chatId(body: unknown): string {
  const id = (body as { id?: unknown } | null)?.id;
  if (typeof id !== "string" || id === "")
    throw new BadRequestError(
      "invalid_request",
      'the chat request needs an "id": the chat id, which is the session id (useChat sends it)',
    );
  return id;
}
