/**
 * What a run's start carries to the model, against the loopback provider fakes and the real
 * provider packages: files and images in the user message (a data URL or an https URL), and
 * the run's own model options. The start goes through the start command (`dispatchCommand`,
 * the door every transport uses), so its schema checks it; the fakes refuse what the real
 * APIs refuse.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import type { LanguageModelV4 } from "@ai-sdk/provider";
import {
  defineAgent,
  dispatchCommand,
  latestRun,
  listMessages,
  TRUSTED_CALLER,
} from "@durable-agents/core";
import { createTestSession, type TestSession } from "@durable-agents/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculator } from "../../examples/quickstart/src/tools/calculator.ts";
import { startAnthropicFake } from "../support/provider-fakes/anthropic-fake.ts";
import type { FakeProvider, RecordedRequest } from "../support/provider-fakes/fake-server.ts";
import { startOpenAIFake } from "../support/provider-fakes/openai-fake.ts";

/** A 1x1 PNG, a few bytes of a JPEG header, and a minimal PDF. */
const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=";
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0, 1]).toString("base64");
const PDF = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n").toString("base64");

const FILES = [
  { type: "image", image: `data:image/png;base64,${PNG}` },
  { type: "image", image: "https://example.com/cat.jpg" },
  {
    type: "file",
    data: `data:application/pdf;base64,${PDF}`,
    mediaType: "application/pdf",
    filename: "report.pdf",
  },
];

interface Case {
  readonly name: string;
  readonly start: () => Promise<FakeProvider>;
  readonly model: (baseUrl: string) => LanguageModelV4;
  /** The user message's content as this API received it. */
  readonly userContent: (request: RecordedRequest) => unknown;
  readonly expectedContent: unknown[];
  /** A mislabelled image: our check lets it through (the data URL is well formed), the API refuses it. */
  readonly badImage: { url: string; error: RegExp };
  readonly providerOptions: Record<string, Record<string, unknown>>;
  /** The run's model options as they reach this API's body. */
  readonly expectedBody: Record<string, unknown>;
}

const cases: Case[] = [
  {
    name: "OpenAI chat completions",
    start: startOpenAIFake,
    model: (url) => createOpenAI({ apiKey: "test", baseURL: `${url}/v1` }).chat("gpt-4o-mini"),
    userContent: (r) => (r.body.messages as { role: string; content: unknown }[])[1]?.content,
    expectedContent: [
      { type: "text", text: "What is in these?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
      { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
      {
        type: "file",
        file: { filename: "report.pdf", file_data: `data:application/pdf;base64,${PDF}` },
      },
    ],
    badImage: {
      url: `data:image/png;base64,${Buffer.from("not an image").toString("base64")}`,
      error: /You uploaded an unsupported image/,
    },
    providerOptions: { openai: { user: "user-7" } },
    expectedBody: {
      temperature: 0.3,
      max_tokens: 300,
      top_p: 0.8,
      stop: ["END"],
      tool_choice: "none",
      user: "user-7",
    },
  },
  {
    name: "Anthropic messages",
    start: startAnthropicFake,
    model: (url) => createAnthropic({ apiKey: "test", baseURL: `${url}/v1` })("claude-haiku-4-5"),
    userContent: (r) => (r.body.messages as { role: string; content: unknown }[])[0]?.content,
    expectedContent: [
      { type: "text", text: "What is in these?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
      expect.objectContaining({
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: PDF },
        title: "report.pdf",
      }),
    ],
    badImage: {
      url: `data:image/png;base64,${JPEG}`,
      error: /specified using the image\/png media type, but the image appears to be a image\/jpeg/,
    },
    providerOptions: { anthropic: { metadata: { userId: "user-7" } } },
    expectedBody: {
      metadata: { user_id: "user-7" },
      temperature: 0.3,
      max_tokens: 300,
      stop_sequences: ["END"],
      tool_choice: { type: "none" },
    },
  },
];

/** Starts a run the way every transport does: through the start command and its schema. */
async function start(s: TestSession, body: unknown) {
  return dispatchCommand("start", body, {
    runtime: s.runtime,
    sql: s.sql,
    clock: s.clock,
    caller: TRUSTED_CALLER,
    transport: "test",
  });
}

describe.each(cases)("a run started against the $name fake", (c) => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await c.start();
  });
  afterAll(() => fake.close());

  const agent = (name: string, extra: object = {}) =>
    defineAgent({
      name,
      system: "Describe what you are shown.",
      model: c.model(fake.baseUrl),
      ...extra,
    });

  it("gives the model its images and files as the API's own parts, and records them", async () => {
    const s = createTestSession(agent("looker"));
    await start(s, { input: { message: "What is in these?", files: FILES } });
    await s.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    const request = fake.requests.at(-1) as RecordedRequest;
    expect(request.status).toBe(200);
    expect(c.userContent(request)).toEqual(c.expectedContent);

    const recorded = [
      { type: "file", mediaType: "image/png", url: `data:image/png;base64,${PNG}` },
      { type: "file", mediaType: "image/*", url: "https://example.com/cat.jpg" },
      {
        type: "file",
        mediaType: "application/pdf",
        url: `data:application/pdf;base64,${PDF}`,
        filename: "report.pdf",
      },
    ];
    const started = s.runtime.ledger.read(0, 1)[0];
    expect(started?.kind === "run.started" && started.data.input).toEqual({
      message: "What is in these?",
      files: recorded,
    });
    expect(listMessages(s.sql, 0, 10)[0]?.parts).toEqual([
      { type: "text", text: "What is in these?" },
      ...recorded,
    ]);
  });

  it("a well-formed data URL whose bytes the API refuses fails the run with the API's reason", async () => {
    const s = createTestSession(agent("squinter"));
    await start(s, {
      input: { message: "And this?", files: [{ type: "image", image: c.badImage.url }] },
    });
    await s.drain();
    const run = latestRun(s.sql);
    expect(run?.status).toBe("failed");
    expect(run?.error?.message).toMatch(c.badImage.error);
    expect(fake.requests.at(-1)?.status).toBe(400);
  });

  it("sends the run's model options over the agent's, and the same ones when the step is redriven", async () => {
    const s = createTestSession(
      agent("tuned", {
        tools: [calculator],
        modelOptions: { temperature: 0.9, headers: { "x-agent": "a" } },
      }),
    );
    fake.enqueue({ type: "rate-limit", retryAfterSeconds: 2 });
    const before = fake.requests.length;
    await start(s, {
      input: { message: "Say hi." },
      modelOptions: {
        temperature: 0.3,
        maxOutputTokens: 300,
        topP: 0.8,
        stopSequences: ["END"],
        toolChoice: "none",
        providerOptions: c.providerOptions,
        headers: { "x-run": "r1" },
      },
    });
    await s.drain();
    expect(fake.requests.slice(before).map((r) => r.status)).toEqual([429]);
    // A fresh object (an evicted one's successor) redrives the step after the Retry-After.
    const next = s.restart();
    s.clock.advance(2000);
    await next.runtime.alarm(); // the Durable Object alarm, kept in storage across the eviction
    await next.drain();
    expect(latestRun(s.sql)?.status).toBe("completed");
    const [first, second] = fake.requests.slice(before);
    expect(first?.body).toMatchObject(c.expectedBody);
    expect(first?.headers).toMatchObject({ "x-agent": "a", "x-run": "r1" });
    const settings = (r: RecordedRequest | undefined) => ({
      ...r?.body,
      messages: undefined,
      tools: undefined,
    });
    expect(settings(second)).toEqual(settings(first));
    expect(second?.headers).toMatchObject({ "x-agent": "a", "x-run": "r1" });
  });
});

describe("the start command refuses bad files and model options, and changes nothing", () => {
  const refusals: [string, unknown, RegExp][] = [
    [
      "a data URL that is not base64",
      { type: "image", image: "data:image/png,rawbytes" },
      /input\.files\.0\.image: is not a base64 data URL/,
    ],
    [
      "an http URL",
      { type: "image", image: "http://example.com/a.png" },
      /must be a base64 data URL or an https URL/,
    ],
    [
      "an image part with a PDF",
      { type: "image", image: `data:application/pdf;base64,${PDF}` },
      /not an image type/,
    ],
    [
      "a media type the data URL contradicts",
      { type: "file", data: `data:image/png;base64,${PNG}`, mediaType: "image/jpeg" },
      /the data URL says image\/png/,
    ],
    [
      "a file part without a media type",
      { type: "file", data: `data:image/png;base64,${PNG}` },
      /input\.files\.0\.mediaType/,
    ],
    [
      "an unknown part type",
      { type: "audio", data: `data:audio/wav;base64,${PNG}` },
      /input\.files\.0/,
    ],
  ];
  for (const [what, part, error] of refusals)
    it(what, async () => {
      const s = createTestSession(
        defineAgent({ name: "strict", system: "", model: createOpenAI({ apiKey: "x" }).chat("m") }),
      );
      await expect(start(s, { input: { message: "hi", files: [part] } })).rejects.toMatchObject({
        status: 400,
        code: "invalid_request",
        message: expect.stringMatching(error),
      });
      expect(s.runtime.ledger.tail).toBe(0);
    });

  it("too many files, too many characters of them, and unknown or out-of-range model options", async () => {
    const s = createTestSession(
      defineAgent({ name: "strict", system: "", model: createOpenAI({ apiKey: "x" }).chat("m") }),
    );
    const image = { type: "image", image: `data:image/png;base64,${PNG}` };
    const big = { type: "image", image: `data:image/png;base64,${"A".repeat(800 * 1024)}` };
    const bodies: [unknown, RegExp][] = [
      [{ input: { message: "hi", files: Array(17).fill(image) } }, /input\.files/],
      [{ input: { message: "hi", files: [big] } }, /link larger files by https URL/],
      [{ input: { message: "hi" }, modelOptions: { temprature: 1 } }, /temprature/],
      [{ input: { message: "hi" }, modelOptions: { maxOutputTokens: 0 } }, /positive integer/],
      [{ input: { message: "hi" }, modelOptions: { toolChoice: "sometimes" } }, /toolChoice/],
      [
        { input: { message: "hi" }, modelOptions: { headers: { "bad header": "x" } } },
        /modelOptions\.headers/,
      ],
    ];
    for (const [body, error] of bodies)
      await expect(start(s, body)).rejects.toMatchObject({
        status: 400,
        message: expect.stringMatching(error),
      });
    expect(s.runtime.ledger.tail).toBe(0);
  });
});
