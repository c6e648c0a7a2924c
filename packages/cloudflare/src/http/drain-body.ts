/**
 * Read and drop what is left of a request body, up to `maxBytes`, then cancel the rest.
 *
 * An object that answers without reading the body (a refused request) must still take it:
 * the Worker that forwarded the request keeps piping the client's body into it, and once
 * the response is sent workerd reports that pipe as an uncaught exception ("Can't read
 * from request stream after response has been sent"). Cancelling instead of reading does
 * not stop the pipe; only reading does.
 * @example
 * const response = await handle(request);
 * await drainBody(request, LIMITS.maxBodyBytes);
 * return response;
 */
export async function drainBody(request: Request, maxBytes: number): Promise<void> {
  if (request.body === null || request.bodyUsed) return;
  const reader = request.body.getReader();
  try {
    for (let size = 0; size <= maxBytes; ) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // the client went away: nothing left to drain
  }
}
