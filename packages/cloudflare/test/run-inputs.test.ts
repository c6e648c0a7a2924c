import { env, SELF } from "cloudflare:test";
import { LIMITS, mintSessionToken } from "@durable-agents/core";
import { describe, expect, it } from "vitest";
import { BASE, isTerminal, session } from "./support/session.ts";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=";
const image = `data:image/png;base64,${PNG}`;
const recorded = { type: "file", mediaType: "image/png", url: image };

describe("a run's files and model options over HTTP (POST .../runs, POST /chat/:agent)", () => {
  it("a start with an image and model options records both; the user message carries the file", async () => {
    const s = session("chatty");
    const response = await s.post("runs", {
      input: { message: "What is this?", files: [{ type: "image", image }] },
      modelOptions: { temperature: 0.2, stopSequences: ["END"] },
    });
    expect(response.status).toBe(202);
    const started = await s.waitFor(isTerminal);
    expect(started.kind).toBe("run.completed");
    const [first] = await s.events();
    expect(first?.kind === "run.started" && first.data).toMatchObject({
      input: { message: "What is this?", files: [recorded] },
      modelOptions: { temperature: 0.2, stopSequences: ["END"] },
    });
    expect((await s.messages())[0]?.parts).toEqual([
      { type: "text", text: "What is this?" },
      recorded,
    ]);
  });

  it("bad files and model options are 400s that name the field, and change nothing", async () => {
    const s = session("chatty");
    const bodies: [unknown, string][] = [
      [
        { input: { message: "hi", files: [{ type: "image", image: "ftp://x/y.png" }] } },
        "input.files.0.image",
      ],
      [
        { input: { message: "hi", files: [{ type: "file", data: image }] } },
        "input.files.0.mediaType",
      ],
      [{ input: { message: "hi" }, modelOptions: { topP: "high" } }, "modelOptions.topP"],
      [{ input: { message: "hi" }, modelOptions: { seed: 1, colour: "red" } }, "colour"],
      // A header value that would split the provider request, and credential or hop-by-hop
      // headers, which only the agent's own code may set.
      ...[
        { "x-a": "a\r\nx-b: c" },
        { Authorization: "Bearer stolen" },
        { "x-api-key": "stolen" },
        { host: "evil.test" },
      ].map((headers): [unknown, string] => [
        { input: { message: "hi" }, modelOptions: { headers } },
        `modelOptions.headers.${Object.keys(headers)[0]}`,
      ]),
      [{ input: { message: "hi" }, modelOptions: { topP: 2 } }, "modelOptions.topP"],
      [{ input: { message: "hi" }, modelOptions: { temperature: -5 } }, "modelOptions.temperature"],
      [
        {
          input: { message: "hi" },
          modelOptions: { toolChoice: { type: "tool", toolName: "nope" } },
        },
        "modelOptions.toolChoice.toolName",
      ],
    ];
    for (const [body, field] of bodies) {
      const response = await s.post("runs", body);
      expect(response.status).toBe(400);
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe("invalid_request");
      expect(error.message).toContain(field);
    }
    // Over the files' share of a start (but under the body limit): a 400 that says what to do.
    const big = `data:image/png;base64,${"A".repeat(LIMITS.maxStartBodyBytes - 100_000)}`;
    const tooBig = await s.post("runs", {
      input: { message: "hi", files: [{ type: "image", image: big }] },
    });
    expect(tooBig.status).toBe(400);
    expect(await tooBig.text()).toContain("link larger files by https URL");
    expect(await s.events()).toEqual([]);
  });

  it("the chat route maps the user message's file parts (FileUIPart) into the start", async () => {
    const s = session("chatty");
    const token = await mintSessionToken(env.AUTH_SECRET, { agent: "chatty", session: s.session });
    const chat = (parts: unknown[]) =>
      SELF.fetch(`${BASE}/chat/chatty`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({
          id: s.session,
          trigger: "submit-message",
          messages: [{ id: "u1", role: "user", parts }],
        }),
      });
    const refused = await chat([
      { type: "text", text: "look" },
      { type: "file", mediaType: "image/png", url: "data:image/png;base64,%%%" },
    ]);
    expect(refused.status).toBe(400);
    expect(await s.events()).toEqual([]);

    const response = await chat([
      { type: "text", text: "look" },
      { type: "file", mediaType: "image/png", url: image, filename: "dot.png" },
    ]);
    expect(response.status).toBe(200);
    await response.text();
    const [first] = await s.events();
    expect(first?.kind === "run.started" && first.data.input).toEqual({
      message: "look",
      files: [{ ...recorded, filename: "dot.png" }],
    });
  });
});
