/**
 * Which conformance cases run against session ledgers (ledger-conformance.test.ts): the
 * suite's read groups. The write side (producers, TTL, forks, subscriptions, headers of PUT
 * and POST) belongs to `/v1/stream/*` and runs in conformance.test.ts, whole.
 */
export const LEDGER_SUITE = "session ledger via /events";

export const LEDGER_READ_GROUPS = [
  "Read Operations",
  "HEAD Metadata(?! Edge Cases)",
  "Long-Poll Operations",
  "Offset Validation and Resumability",
  "Long-Poll Edge Cases",
  "Caching and ETag",
  "Chunking and Large Payloads",
  "Read-Your-Writes Consistency",
  "SSE Mode",
  "JSON Mode",
  "Stream Closure HEAD with Stream Closure",
  "Stream Closure Read Closed Streams \\(Catch-up\\)",
  "Stream Closure Long-poll with Stream Closure",
  "Stream Closure SSE with Stream Closure",
  "Property-Based Tests \\(fast-check\\) Byte-Exactness Property",
];

/**
 * Cases of those groups that are not about reading: CORS preflight is answered in front of a
 * session (platform and router), not by the reader.
 */
export const LEDGER_SKIPPED = [
  "Caching and ETag should allow If-None-Match in CORS preflight responses",
];

/** Every test of other files, and the ledger file's read groups only. */
export const TEST_NAME_PATTERN = new RegExp(
  `^(?!${LEDGER_SUITE} )|^${LEDGER_SUITE} (?!${LEDGER_SKIPPED.join("|")})(?:${LEDGER_READ_GROUPS.join("|")}) `,
);
