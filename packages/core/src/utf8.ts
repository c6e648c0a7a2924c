/**
 * The UTF-8 length of `text` in bytes, what `new TextEncoder().encode(text).byteLength` gives,
 * counted without encoding it (a frame or a page can be megabytes: measuring it must not copy
 * it). A lone surrogate counts 3 bytes, as the encoder writes U+FFFD for it (WHATWG Encoding).
 * The one measure of sizes in UTF-8: event payloads (ledger.ts), projection documents, a message
 * row's parts and prompt and a step's inline tool results (messages.ts), tool and workflow
 * results (`limits.maxToolResultBytes`), summaries, chat-history pages and WebSocket frames
 * against a socket's window. A check against a limit is `utf8Exceeds`.
 */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (isHigh(unit) && isLow(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/**
 * Whether `texts` together take more than `limit` bytes of UTF-8. Their length often decides
 * it (n UTF-16 units are n to 3n bytes), so only text between limit/3 and limit units is
 * counted, once: the check before every write of a large row.
 */
export function utf8Exceeds(limit: number, ...texts: readonly string[]): boolean {
  let units = 0;
  for (const text of texts) units += text.length;
  if (units * 3 <= limit) return false;
  if (units > limit) return true;
  let bytes = 0;
  for (const text of texts) bytes += utf8Length(text);
  return bytes > limit;
}
