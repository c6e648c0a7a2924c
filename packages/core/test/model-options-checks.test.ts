import { describe, expect, it } from "vitest";
import { dispatchCommand } from "../src/commands/dispatch.ts";
import { defineAgent, latestRun, scriptedModel } from "../src/index.ts";
import { mcpServer } from "../src/mcp/index.ts";
import { createTestSession } from "../src/testing/index.ts";
import { calculator, trustedCall } from "./fixtures.ts";

/** A start through the one door, as HTTP and WebSocket do it. */
function start(t: ReturnType<typeof createTestSession>, body: unknown) {
  return dispatchCommand("start", body, trustedCall(t, "http", { origin: "https://example.test" }));
}

const agent = (modelOptions: object, extra: object = {}) =>
  defineAgent({
    name: "checked",
    system: "",
    model: scriptedModel({ turns: [{ text: "ok" }] }),
    tools: [calculator],
    modelOptions,
    ...extra,
  });

describe("model options: what no provider takes is refused before anything is recorded", () => {
  it("a run's bad header names and values, ranges and unknown tools are 400s naming the field; the ledger is unchanged", async () => {
    const t = createTestSession(agent({}));
    const bad: [object, string][] = [
      [{ headers: { "x-a": "a\r\nx-b: c" } }, "modelOptions.headers.x-a"],
      [{ headers: { "x-a": "a\nb" } }, "modelOptions.headers.x-a"],
      [{ headers: { "x-a": "a\0b" } }, "modelOptions.headers.x-a"],
      [{ headers: { "x-a": " padded" } }, "modelOptions.headers.x-a"],
      [{ headers: { "x-a": "€" } }, "modelOptions.headers.x-a"],
      [{ headers: { "x a": "b" } }, "modelOptions.headers"],
      [{ headers: { Authorization: "Bearer stolen" } }, "modelOptions.headers.Authorization"],
      [{ headers: { "x-api-key": "stolen" } }, "modelOptions.headers.x-api-key"],
      [{ headers: { "API-Key": "stolen" } }, "modelOptions.headers.API-Key"],
      [{ headers: { cookie: "a=b" } }, "modelOptions.headers.cookie"],
      [{ headers: { host: "evil.test" } }, "modelOptions.headers.host"],
      [{ headers: { "content-length": "1" } }, "modelOptions.headers.content-length"],
      [{ topP: 2 }, "modelOptions.topP"],
      [{ topP: -0.1 }, "modelOptions.topP"],
      [{ temperature: -5 }, "modelOptions.temperature"],
      [{ temperature: 2.5 }, "modelOptions.temperature"],
      [{ presencePenalty: 3 }, "modelOptions.presencePenalty"],
      [{ frequencyPenalty: -2.5 }, "modelOptions.frequencyPenalty"],
      [{ topK: 0 }, "modelOptions.topK"],
      [{ toolChoice: { type: "tool", toolName: "nope" } }, "modelOptions.toolChoice.toolName"],
    ];
    for (const [modelOptions, field] of bad) {
      const refused = start(t, { input: { message: "hi" }, modelOptions });
      await expect(refused, JSON.stringify(modelOptions)).rejects.toMatchObject({
        status: 400,
        code: "invalid_request",
        message: expect.stringContaining(field),
      });
    }
    expect(t.runtime.ledger.tail).toBe(0);
    // The edges, a tool the agent has, and an ordinary header pass.
    await expect(
      start(t, {
        input: { message: "hi" },
        modelOptions: {
          temperature: 2,
          topP: 0,
          presencePenalty: -2,
          toolChoice: { type: "tool", toolName: "calculator" },
          headers: { "x-team": "a b", "x-empty": "" },
        },
      }),
    ).resolves.toMatchObject({ status: 202 });
  });

  it("defineAgent throws for the same settings, but the agent's own code may set credential headers", () => {
    for (const [options, message] of [
      [
        { headers: { "x-a": "a\r\nx-b: c" } },
        /modelOptions\.headers\.x-a must be an HTTP header value/,
      ],
      [{ topP: 2 }, /modelOptions\.topP must be between 0 and 1/],
      [{ temperature: -5 }, /modelOptions\.temperature must be between 0 and 2/],
      [{ toolChoice: { type: "tool", toolName: "nope" } }, /toolChoice\.toolName names "nope"/],
    ] as const)
      expect(() => agent(options), JSON.stringify(options)).toThrow(message);
    expect(() =>
      agent({ headers: { authorization: "Bearer app-key", "x-api-key": "k" } }),
    ).not.toThrow();
  });

  it("an agent with MCP servers may name a tool its servers list at run time", async () => {
    const withMcp = agent(
      { toolChoice: { type: "tool", toolName: "add" } },
      { mcp: [mcpServer({ name: "lab", url: "https://mcp.example.test/mcp" })] },
    );
    const t = createTestSession(withMcp);
    await expect(
      start(t, {
        input: { message: "hi" },
        modelOptions: { toolChoice: { type: "tool", toolName: "multiply" } },
      }),
    ).resolves.toMatchObject({ status: 202 });
  });

  it("a call whose chosen tool is not offered (prepareStep left it out) fails on its first attempt, terminally", async () => {
    const t = createTestSession(
      agent(
        {},
        {
          prepareStep: () => ({
            activeTools: [],
            toolChoice: { type: "tool", toolName: "calculator" },
          }),
        },
      ),
    );
    await t.runtime.start({ message: "hi" });
    await t.drain();
    const run = latestRun(t.sql);
    expect(run).toMatchObject({ status: "failed", error: { code: "invalid_tool_choice" } });
    expect(run?.error?.message).toContain('names "calculator", a tool the model is not given');
    const attempts = t.runtime.ledger.read(0, 100).filter((e) => e.kind === "step.started");
    expect(attempts).toHaveLength(1);
  });

  it("a bad prepareStep answer fails the run at once with invalid_prepare_step naming the field", async () => {
    let calls = 0;
    const t = createTestSession(
      agent(
        {},
        {
          prepareStep: () => {
            calls++;
            return { topP: 2, headers: { "x-a": "a\r\nb" } };
          },
        },
      ),
    );
    await t.runtime.start({ message: "hi" });
    await t.drain();
    const run = latestRun(t.sql);
    expect(run).toMatchObject({ status: "failed", error: { code: "invalid_prepare_step" } });
    expect(run?.error?.message).toContain(
      "prepareStep's answer for step 1: topP must be between 0 and 1",
    );
    expect(calls).toBe(1);
  });
});
