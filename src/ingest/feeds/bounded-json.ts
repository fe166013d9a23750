/** A feed answer larger than the limit: refused before it is parsed, and before it is all downloaded. */
export class FeedTooLargeError extends Error {
  override name = 'FeedTooLargeError';
}

/** 10 MiB: a feed answer's default size limit. */
export const defaultMaxResponseBytes = 10 * 1024 * 1024;

/**
 * GETs `url` and parses its JSON body, reading at most `maxBytes`: a
 * `content-length` over it is refused at once, and a body that grows past
 * it while streaming is cut off there (the connection is aborted), so a
 * 50 MB answer costs 10 MiB of memory at most and is never parsed.
 */
export async function fetchJsonWithin(
  url: URL,
  { maxBytes, timeoutMs, headers }: { maxBytes: number; timeoutMs: number; headers?: Record<string, string> },
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const abort = new AbortController();
  const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)]);
  const response = await fetch(url, { signal, headers });
  const tooLarge = () => {
    abort.abort();
    return new FeedTooLargeError(`feed ${url.origin}${url.pathname} answered more than ${maxBytes} bytes, the limit; refused unparsed`);
  };
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!response.ok) return { status: response.status, body: undefined, headers: response.headers };
  try {
    return { status: response.status, body: JSON.parse(text), headers: response.headers };
  } catch (error) {
    throw new Error(`feed ${url.origin}${url.pathname} answered ${response.status} with a body that is not JSON: ${(error as Error).message}`);
  }
}
