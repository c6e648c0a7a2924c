import { BadRequestError } from "../errors/http-errors.ts";
import { quoteInput } from "../errors/quote-input.ts";
import { decodePathSegment } from "../http/path-segment.ts";

/**
 * The rule for a stream's path (stream-root-relative, as the URL has it after `/v1/stream/`):
 * names separated by `/`, none of them empty, `.` or `..`, whether written plainly or
 * percent-encoded (`p%2F..%2Fq` is `p/../q`). A URL library resolves `.` and `..` segments
 * and many clients collapse `//`, so such a stream would be out of their reach, or another
 * stream's alias; PROTOCOL.md 12 asks servers to refuse path traversal. Malformed
 * percent-encoding is a 400 `invalid_path` (`decodePathSegment`); a bad segment a 400
 * `invalid_stream_path` that names it.
 *
 * Every place a stream path enters calls it: the request URL (the Worker's route, the in-memory
 * server), a fork's `Stream-Forked-From`, and the subscription APIs' `streams`, `wake_stream`
 * and `DELETE .../streams/:path`. `where` names the header or field the path came in, when it
 * is not the URL.
 */
export function assertStreamPath(path: string, where?: string): void {
  const decoded = decodePathSegment(
    path,
    where === undefined ? "stream path" : `stream path in ${where}`,
  );
  const bad = badPathSegment(decoded);
  if (bad === undefined) return;
  const which = bad === "" ? "an empty segment" : `a "${bad}" segment`;
  throw new BadRequestError(
    "invalid_stream_path",
    `${where === undefined ? "" : `${where}: `}the stream path ${quoteInput(decoded)} has ${which} (percent-decoded); a stream path is names separated by /, none empty, "." or "..", since clients resolve those away; name the stream without them`,
    { details: { path: decoded.slice(0, 200), ...(where === undefined ? {} : { where }) } },
  );
}

/** The first segment of `path` (split on `/`) that is empty, `.` or `..`, if any. */
export function badPathSegment(path: string): string | undefined {
  return path.split("/").find((segment) => segment === "" || segment === "." || segment === "..");
}
