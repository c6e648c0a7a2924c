/**
 * What docs/api.md (`routeRequest`, "Browsers on another origin") says about CORS: the
 * session, chat and index routes answer no CORS, so a browser page calls them from the
 * Worker's own origin (or through a proxy on its own); the stream routes answer CORS.
 * A newcomer's page on another origin saw only the browser's "blocked by CORS policy".
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE } from "./support/session.ts";

const preflight = (path: string) =>
  SELF.fetch(`${BASE}${path}`, {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });

describe("CORS, as docs/api.md says", () => {
  it("the session, chat and index routes answer a preflight with no CORS headers", async () => {
    for (const path of ["/agents/probe/cors-1/runs", "/chat/probe", "/sessions"]) {
      const response = await preflight(path);
      expect(response.ok, path).toBe(false);
      expect(response.headers.get("access-control-allow-origin"), path).toBeNull();
      await response.body?.cancel();
    }
  });

  it("the stream routes answer CORS themselves", async () => {
    const response = await SELF.fetch(`${BASE}/v1/stream/cors-doc-${Date.now()}`, {
      headers: { origin: "https://app.example" },
    });
    expect(response.headers.get("access-control-allow-origin")).not.toBeNull();
    await response.body?.cancel();
  });
});
