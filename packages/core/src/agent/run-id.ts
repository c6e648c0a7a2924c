/**
 * A new run id: `run_` then 24 hex digits, the first 12 the wall-clock time in ms
 * (`Date.now()`, 48 bits, good until the year 10889) and the last 12 random (48 bits from
 * `crypto.getRandomValues`). Example: `run_019ad3f2c4e1b7a90c3d52ef`.
 *
 * Time first, as in UUIDv7 (RFC 9562 §5.7), so that a session's run ids sort by when the runs
 * started: the SQLite indexes keyed by run id (the `runs` table's primary key, the messages
 * projection's ids `<run>:<step>:a|t` and its user rows by run, `message_deltas`) take each
 * new run at their right edge, a page the last run already touched, instead of a random leaf
 * of a B-tree that grows with the session's history (docs/benchmarks.md, "Time-ordered run
 * ids"). The order is a storage locality hint, not a guarantee the runtime relies on: a clock
 * that steps back only costs locality, and uniqueness comes from the random part (a session
 * starts one run at a time; 48 random bits per millisecond across every session of a
 * deployment). The wall clock is read directly, not the runtime's injected `Clock`, because
 * nothing behaves differently by it.
 */
export function newRunId(): string {
  const random = new Uint8Array(6);
  crypto.getRandomValues(random);
  let hex = Date.now().toString(16).padStart(12, "0");
  for (const byte of random) hex += byte.toString(16).padStart(2, "0");
  return `run_${hex}`;
}
