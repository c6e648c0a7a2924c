/**
 * The shared part of the loopback provider fakes (OpenAI chat completions, Anthropic
 * messages): a Node HTTP server on 127.0.0.1, a record of every request, a queue of scripted
 * behaviors (429 with Retry-After, a hang before or after the first token), and a default
 * "brain" that answers like a model driving the quickstart's tools.
 *
 * The fakes refuse what the real APIs refuse, with their real status and error body: see
 * openai-fake.ts and anthropic-fake.ts for each rule and where its wording comes from.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** What the model says in one turn: reasoning, then text, then tool calls (all optional). */
export interface FakeTurn {
  readonly reasoning?: string;
  readonly text?: string;
  readonly toolCalls?: readonly { readonly name: string; readonly args: unknown }[];
}

/** The conversation as the brain sees it, whatever the provider's wire format. */
export interface FakeConversation {
  readonly lastUserText: string;
  /**
   * Tool rounds since the last user message: assistant messages with tool calls. An answer cut
   * short by an interrupt (text only, handed back on the resume) is none, as for the scripted
   * model: the turn is answered again.
   */
  readonly turn: number;
  /** Tool results since the last user message, in order, as the text the model got. */
  readonly toolResults: readonly string[];
}

export type FakeBehavior =
  /** Answer with this turn instead of the brain's. */
  | { readonly type: "reply"; readonly turn: FakeTurn }
  /** 429 with a Retry-After header (seconds) and the provider's rate-limit error body. */
  | { readonly type: "rate-limit"; readonly retryAfterSeconds: number }
  /** Accept the request and never send a byte of the response. */
  | { readonly type: "hang" }
  /** Send the response headers and the first three events (some content), then nothing more. */
  | { readonly type: "stall" };

export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Record<string, unknown>;
  /** Date.now() when it arrived. */
  readonly at: number;
  /** The HTTP status the fake answered with (200 for a stream). */
  status: number;
}

export interface FakeProvider {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Behaviors for the next requests, first in first out; the brain answers the rest. */
  enqueue(...behaviors: FakeBehavior[]): void;
  close(): Promise<void>;
}

export interface WireError {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

export interface ProviderWire {
  /** The path it serves, e.g. "/v1/chat/completions". */
  readonly path: string;
  /** A refusal with the real API's status and body, or undefined when the request is valid. */
  check(body: Record<string, unknown>, headers: IncomingMessage["headers"]): WireError | undefined;
  conversation(body: Record<string, unknown>): FakeConversation;
  rateLimited(retryAfterSeconds: number): WireError;
  /** The SSE events of one streamed answer, each already framed (`event:`/`data:` lines). */
  stream(turn: FakeTurn, body: Record<string, unknown>): string[];
}

/** The default answers: parallel calculator calls for the arithmetic in the message, then the results. */
export function brain(c: FakeConversation): FakeTurn {
  const expressions = c.lastUserText.match(/[-+(]*\d[\d\s.]*(?:[-+*/][\s(]*[-+]?\d[\d\s.)]*)+/g);
  if (expressions && expressions.length > 0) {
    if (c.turn === 0)
      return {
        reasoning: `The user wants ${expressions.length} calculation(s); I will use the calculator.`,
        text: "Let me calculate. ",
        toolCalls: expressions.map((e) => ({ name: "calculator", args: { expression: e.trim() } })),
      };
    const answers = c.toolResults.map((r) => {
      const parsed = safeJson(r) as { expression?: string; result?: number } | undefined;
      return `${parsed?.expression ?? "?"} = ${parsed?.result ?? "?"}`;
    });
    return { text: `${answers.join(", ")}.` };
  }
  const note = c.lastUserText.match(/^\s*remember\s+(.+)$/i)?.[1];
  if (note) {
    if (c.turn === 0)
      return { toolCalls: [{ name: "notes", args: { action: "add", text: note } }] };
    return { text: "Noted." };
  }
  return { text: "Hello from the fake provider." };
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Starts a fake on a free loopback port. */
export async function startFake(wire: ProviderWire): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const queue: FakeBehavior[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = (safeJson(Buffer.concat(chunks).toString("utf8")) ?? {}) as Record<
      string,
      unknown
    >;
    const record: RecordedRequest = {
      path: req.url ?? "",
      headers: req.headers,
      body,
      at: Date.now(),
      status: 200,
    };
    requests.push(record);
    const send = (error: WireError) => {
      record.status = error.status;
      res.writeHead(error.status, { "content-type": "application/json", ...error.headers });
      res.end(JSON.stringify(error.body));
    };
    if (req.method !== "POST" || req.url !== wire.path) {
      send({ status: 404, body: { error: { message: `no route ${req.method} ${req.url}` } } });
      return;
    }
    const refused = wire.check(body, req.headers);
    if (refused) return send(refused);
    const behavior = queue.shift();
    if (behavior?.type === "rate-limit") return send(wire.rateLimited(behavior.retryAfterSeconds));
    if (behavior?.type === "hang") {
      open.add(res);
      return;
    }
    const turn = behavior?.type === "reply" ? behavior.turn : brain(wire.conversation(body));
    const events = wire.stream(turn, body);
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    if (behavior?.type === "stall") {
      for (const event of events.slice(0, 3)) res.write(event);
      open.add(res);
      return;
    }
    for (const event of events) res.write(event);
    res.end();
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...behaviors) => queue.push(...behaviors),
    close: () =>
      new Promise((done) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** `data: <json>\n\n`, optionally with an `event:` line (Anthropic names its events). */
export function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

/** The image formats both APIs take, by their leading bytes (PNG, JPEG, GIF, WebP). */
export function sniffImage(base64: string): string | undefined {
  const bytes = Buffer.from(base64, "base64");
  const ascii = (from: number, to: number) => bytes.subarray(from, to).toString("latin1");
  if (bytes[0] === 0x89 && ascii(1, 4) === "PNG") return "image/png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (ascii(0, 4) === "GIF8") return "image/gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  return undefined;
}

/** Whether base64 data is a PDF (`%PDF-`). */
export function isPdf(base64: string): boolean {
  return Buffer.from(base64, "base64").subarray(0, 5).toString("latin1") === "%PDF-";
}

/** Strict standard base64, padded (what both APIs decode). */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
