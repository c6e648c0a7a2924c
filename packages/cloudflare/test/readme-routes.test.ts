/**
 * README.md's route tables name exactly what the Worker serves: every session route (method
 * and action) from core's route table and its WebSocket, and every route of the Worker's own
 * from the 404 that lists them (router.ts `servedRoutes`, each from its declaration).
 */
import { SELF } from "cloudflare:test";
import { SOCKET_ROUTE, sessionRoutes } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import readme from "../../../README.md?raw";
import { BASE } from "./support/session.ts";

/** The first cell of each row of the Markdown table that follows `heading` (its first line). */
function firstCells(heading: string): string[] {
  const start = readme.indexOf(heading);
  expect(start, `README has "${heading}"`).toBeGreaterThan(-1);
  const lines = readme.slice(start).split("\n");
  const first = lines.findIndex((line) => line.startsWith("|"));
  const rows = lines.slice(first + 2);
  const end = rows.findIndex((line) => !line.startsWith("|"));
  return rows.slice(0, end).map((row) => row.split("|")[1] ?? "");
}

/** The code spans of the cells. */
function spans(cells: readonly string[]): string[] {
  return cells.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ""));
}

describe("README.md's route tables", () => {
  it("the session table lists each session route once, as METHOD action, and nothing else", () => {
    const listed = spans(
      firstCells("Every session route is `/agents/:agent/:session/<action>`"),
    ).map((span) => span.replace(/\?.*$/, ""));
    const served = [
      ...Object.entries(sessionRoutes()).flatMap(([action, methods]) =>
        methods.map((method) => `${method} ${action}`),
      ),
      `${SOCKET_ROUTE.method} ${SOCKET_ROUTE.action}`,
    ];
    expect([...listed].sort()).toEqual([...served].sort());
  });

  it("the Worker's table lists every route the Worker serves of its own", async () => {
    // The fixture Worker serves every optional door (the index, Durable Streams, MCP), and its
    // 404 names the routes it serves, each from its own declaration.
    const response = await SELF.fetch(`${BASE}/nowhere`);
    expect(response.status).toBe(404);
    const { error } = (await response.json()) as { error: { message: string } };
    const routes = error.message
      .split("; ")
      .slice(2)
      .flatMap((part) => [...part.matchAll(/(?:(?:GET|POST|PUT|DELETE) )?\/[^\s;,]+/g)])
      .map((m) => m[0]);
    expect(routes.length).toBeGreaterThanOrEqual(6);
    const table = spans(firstCells("The Worker also serves routes of its own"));
    for (const route of routes) expect(table, route).toContainEqual(expect.stringContaining(route));
    expect(table.length).toBe(routes.length);
  });
});
