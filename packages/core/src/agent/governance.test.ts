import { describe, expect, it } from "vitest";
import * as z from "zod";
import { defineTool } from "./define-tool.ts";
import {
  AgentConfigError,
  governedFetch,
  HostNotAllowedError,
  hostAllowed,
  resolveDomains,
} from "./governance.ts";

const lookup = defineTool({
  name: "lookup",
  description: "Fetches a URL",
  input: z.object({ url: z.string() }),
  effect: "pure",
  authority: "external",
  domains: ["docs"],
  execute: () => null,
});

describe("governance", () => {
  it("hostAllowed: exact hosts (any case) and *.suffix for subdomains only", () => {
    const allow = ["api.example.com", "*.cdn.example.com"];
    expect(hostAllowed("API.example.com", allow)).toBe(true);
    expect(hostAllowed("a.cdn.example.com", allow)).toBe(true);
    expect(hostAllowed("cdn.example.com", allow)).toBe(false);
    expect(hostAllowed("evilcdn.example.com", allow)).toBe(false);
    expect(hostAllowed("api.example.com.evil.test", allow)).toBe(false);
  });

  it("resolveDomains: trims and lowercases; an empty, missing or throwing allow-list is domain_not_configured", () => {
    const agent = (allow: (env: Record<string, unknown>) => readonly string[] | undefined) => ({
      name: "a",
      tools: [lookup],
      domains: { docs: { allow } },
    });
    expect(
      resolveDomains(
        agent(() => [" Docs.Example.com ", ""]),
        {},
      ).get("docs"),
    ).toEqual(["docs.example.com"]);
    for (const allow of [
      () => [],
      () => undefined,
      () => {
        throw new Error("DOCS_HOSTS is not set");
      },
    ]) {
      expect(() => resolveDomains(agent(allow), {})).toThrow(AgentConfigError);
    }
    expect(() => resolveDomains({ name: "a", tools: [lookup] }, {})).toThrow(
      /calls domain "docs", which the agent does not declare/,
    );
  });

  it("governedFetch: allowed hosts pass, others and redirects to them throw before any request", async () => {
    const reached: string[] = [];
    const base = (async (input: RequestInfo | URL) => {
      const url = new Request(input).url;
      reached.push(url);
      if (url.endsWith("/hop")) return Response.redirect("https://docs.example.com/final", 302);
      if (url.endsWith("/out")) return Response.redirect("https://evil.test/x", 301);
      return new Response("ok");
    }) as typeof fetch;
    const f = governedFetch(
      lookup,
      new Map([["docs", ["docs.example.com"]]]),
      base,
      new AbortController().signal,
    );
    expect(await (await f("https://docs.example.com/hop")).text()).toBe("ok");
    await expect(f("https://evil.test/")).rejects.toThrow(HostNotAllowedError);
    await expect(f("https://docs.example.com/out")).rejects.toThrow(/evil\.test/);
    await expect(f("file:///etc/passwd")).rejects.toThrow(HostNotAllowedError);
    const manual = await f("https://docs.example.com/out", { redirect: "manual" });
    expect(manual.status).toBe(301);
    expect(reached).toEqual([
      "https://docs.example.com/hop",
      "https://docs.example.com/final",
      "https://docs.example.com/out",
      "https://docs.example.com/out",
    ]);
  });
});
