import { describe, expect, it } from "vitest";
import { readSse, type SseMessage, SseParser } from "./sse-parser.ts";

function parseAll(chunks: string[]): SseMessage[] {
  const parser = new SseParser();
  return chunks.flatMap((c) => parser.feed(c));
}

/** Every way of cutting `text` in two, plus one char at a time. */
function splits(text: string): string[][] {
  const out: string[][] = [[text], [...text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

describe("SseParser", () => {
  it("joins multi-line data with newlines (a JSON array over several data: lines)", () => {
    const text = 'event: data\ndata: [\ndata: {"k":"v"},\ndata: {"k":"w"}\ndata: ]\n\n';
    const [message] = parseAll([text]);
    expect(message?.event).toBe("data");
    expect(JSON.parse(message?.data ?? "")).toEqual([{ k: "v" }, { k: "w" }]);
  });

  it("gives the same events however the bytes are split", () => {
    const text =
      ': comment\r\nevent: data\r\ndata: [1,\r\ndata: 2]\r\n\r\nevent: control\rdata: {"streamNextOffset":"7"}\r\rdata:x\n\n';
    const expected = parseAll([text]);
    expect(expected.map((m) => [m.event, m.data])).toEqual([
      ["data", "[1,\n2]"],
      ["control", '{"streamNextOffset":"7"}'],
      ["message", "x"],
    ]);
    for (const chunks of splits(text)) expect(parseAll(chunks)).toEqual(expected);
  });

  it("ignores comments, unknown fields and events without data", () => {
    const messages = parseAll([": keep-alive\n\nfoo: bar\nevent: ping\n\n:\ndata: ok\n\n"]);
    expect(messages).toEqual([{ event: "message", data: "ok", id: undefined, retryMs: undefined }]);
  });

  it("strips one leading space only, keeps a field without colon as empty", () => {
    const messages = parseAll(["data:  two spaces\ndata\ndata:none\n\n"]);
    expect(messages[0]?.data).toBe(" two spaces\n\nnone");
  });

  it("keeps the last id across events and reads retry", () => {
    const messages = parseAll(["id: 5\nretry: 100\ndata: a\n\ndata: b\n\nid: bad\0\ndata: c\n\n"]);
    expect(messages.map((m) => [m.id, m.retryMs])).toEqual([
      ["5", 100],
      ["5", 100],
      ["5", 100],
    ]);
  });

  it("strips a leading byte-order mark", () => {
    expect(parseAll(["\uFEFFdata: x\n\n"])[0]?.data).toBe("x");
  });

  it("does not emit an event cut before its blank line", async () => {
    const bytes = new TextEncoder().encode("data: whole\n\ndata: half");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    const out: string[] = [];
    for await (const m of readSse(body)) out.push(m.data);
    expect(out).toEqual(["whole"]);
  });

  it("decodes multi-byte UTF-8 split across chunks", async () => {
    const bytes = new TextEncoder().encode("data: héllo ✓\n\n");
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const b of bytes) controller.enqueue(new Uint8Array([b]));
        controller.close();
      },
    });
    const out: string[] = [];
    for await (const m of readSse(body)) out.push(m.data);
    expect(out).toEqual(["héllo ✓"]);
  });
});
