/** Subscription globs over stream paths: `*` is one segment, `**` is zero or more. */
export function matchGlob(pattern: string, path: string): boolean {
  return match(pattern.split("/"), 0, path.split("/"), 0);
}

function match(
  pattern: readonly string[],
  pi: number,
  path: readonly string[],
  si: number,
): boolean {
  if (pi === pattern.length) return si === path.length;
  const part = pattern[pi] as string;
  if (part === "**") {
    for (let skip = si; skip <= path.length; skip++)
      if (match(pattern, pi + 1, path, skip)) return true;
    return false;
  }
  if (si === path.length) return false;
  const segment = path[si] as string;
  const ok = part === "*" ? segment.length > 0 : wildcard(part, segment);
  return ok && match(pattern, pi + 1, path, si + 1);
}

function wildcard(part: string, segment: string): boolean {
  if (!part.includes("*")) return part === segment;
  const regex = new RegExp(`^${part.split("*").map(escapeRegex).join("[^/]*")}$`);
  return regex.test(segment);
}

function escapeRegex(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}
