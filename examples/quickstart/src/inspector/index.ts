import html from "./inspector.html";

/**
 * The web inspector: one dependency-free page that lists a session's messages,
 * status and live ledger (SSE), and sends messages. Served at `GET /`.
 */
export function inspectorResponse(config: { agents: readonly string[] }): Response {
  // Inside <script type="application/json">, only "<" could end the element early.
  const json = JSON.stringify(config).replaceAll("<", "\\u003c");
  return new Response(html.replace(`"__CONFIG__"`, json), {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "content-security-policy":
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'",
    },
  });
}
