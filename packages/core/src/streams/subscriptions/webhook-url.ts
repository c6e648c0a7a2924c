/**
 * SSRF checks for webhook URLs (PROTOCOL.md 6.2, 12.8): https to public hosts; plain http
 * only to localhost or 127.0.0.x for development; private, link-local and metadata
 * addresses are refused.
 */
import { subscriptionError } from "./subscription-errors.ts";

export function validateWebhookUrl(raw: unknown): string {
  if (typeof raw !== "string")
    throw reject("webhook.url is missing; give the https URL that receives wake notifications");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw reject(`webhook.url "${raw.slice(0, 200)}" is not a URL`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const devLocal = host === "localhost" || /^127\.0\.0\.\d{1,3}$/.test(host);
  if (url.protocol === "http:" && devLocal) return url.href;
  if (url.protocol !== "https:")
    throw reject(
      `webhook.url must use https (http is allowed only for localhost); got ${url.protocol}`,
    );
  if (isPrivateHost(host))
    throw reject(
      `webhook.url host ${host} is a private, loopback or link-local address; use a public host`,
    );
  return url.href;
}

function isPrivateHost(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal"))
    return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (v4 !== null) {
    const a = Number(v4[1]);
    const b = Number(v4[2]);
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  return (
    host === "::1" ||
    host === "::" ||
    host.startsWith("fc") ||
    host.startsWith("fd") ||
    host.startsWith("fe80")
  );
}

function reject(message: string) {
  return subscriptionError("WEBHOOK_URL_REJECTED", 400, message);
}
