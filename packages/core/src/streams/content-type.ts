/** Content types: compare media types case-insensitively and without parameters. */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

export function normalizeContentType(value: string | null | undefined): string {
  if (value === null || value === undefined) return "";
  return (value.split(";")[0] ?? "").trim().toLowerCase();
}

/** JSON mode (PROTOCOL.md 9.1): message boundaries, array flattening, array responses. */
export function isJsonContentType(value: string): boolean {
  return normalizeContentType(value) === "application/json";
}

/** SSE carries `text/*` and JSON as text; everything else is base64 (PROTOCOL.md 5.8). */
export function isTextContentType(value: string): boolean {
  const type = normalizeContentType(value);
  return type.startsWith("text/") || type === "application/json";
}
