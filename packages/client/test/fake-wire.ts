/** Wire helpers of the fake server: WebSocket framing, SSE batches, JSON bodies. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FakeEvent } from "./fake-server.ts";

/** Parses one masked client frame from the front of `data`, or undefined if incomplete. */
export function readClientFrame(
  data: Buffer,
): { opcode: number; payload: Buffer; size: number } | undefined {
  if (data.length < 2) return undefined;
  const opcode = (data[0] as number) & 0x0f;
  let length = (data[1] as number) & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  if (data.length < offset + 4 + length) return undefined;
  const mask = data.subarray(offset, offset + 4);
  const payload = Buffer.from(data.subarray(offset + 4, offset + 4 + length));
  for (let i = 0; i < payload.length; i++)
    payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return { opcode, payload, size: offset + 4 + length };
}

/** A server-to-client WebSocket frame (FIN set, unmasked). */
export function wsFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(length)]);
  return Buffer.concat([header, payload]);
}

export function bigLength(length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(length));
  return b;
}

/** Ends the TCP connection after flushing, mid-body: the client sees a broken chunked stream. */
export function cut(res: ServerResponse): void {
  res.socket?.end();
}

/** A JSON array spread over several `data:` lines, one event per line. */
export function formatArray(events: FakeEvent[]): string {
  const lines = ["data: ["];
  events.forEach((e, i) => {
    lines.push(`data: ${JSON.stringify(e)}${i < events.length - 1 ? "," : ""}`);
  });
  lines.push("data: ]");
  return lines.join("\n");
}

export function projectMessages(ledger: FakeEvent[]) {
  const messages: { id: string; role: string; parts: { type: string; text: string }[] }[] = [];
  for (const e of ledger) {
    if (e.kind === "run.started") {
      const input = e.data.input as { message: string };
      messages.push({
        id: `m${e.seq}`,
        role: "user",
        parts: [{ type: "text", text: input.message }],
      });
    } else if (
      e.kind === "model.completed" &&
      typeof e.data.text === "string" &&
      e.data.text !== ""
    ) {
      messages.push({
        id: `m${e.seq}`,
        role: "assistant",
        parts: [{ type: "text", text: e.data.text }],
      });
    }
  }
  return messages;
}

export const INVALID = Symbol("invalid");

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return INVALID;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): void {
  sendJson(res, status, {
    error: details === undefined ? { code, message } : { code, message, details },
  });
}
