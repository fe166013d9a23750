import { MIMEType } from 'node:util';

/**
 * Apollo Server's CSRF prevention, for the answers that skip Apollo (the response cache): a stored answer
 * must never go to a request Apollo itself would refuse, or a page on another origin could have a browser
 * send a simple (non-preflighted) request and time or trigger reads that CORS should have stopped.
 * The rule is Apollo Server 5's (`@apollo/server/src/preventCsrf.ts`, which it does not export), copied
 * exactly; test/api/csrf-prevention.test.ts holds the two side by side.
 */

/** Apollo Server's `csrfPrevention` option: undefined or true = on with its recommended headers, false = off. */
export type CsrfPrevention = boolean | { requestHeaders?: string[] };

/** The gateway's setting, given to Apollo (src/api/apollo.ts) and to the response cache alike. */
export const gatewayCsrfPrevention: CsrfPrevention = true;

// Apollo Server 5's lists: headers a browser only sends when the page's code set them (so after a
// preflight), and the CORS-safelisted content types a browser sends without one.
const recommendedRequestHeaders = ['x-apollo-operation-name', 'apollo-require-preflight'];
const nonPreflightedContentTypes = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/** The headers of which a request must carry one (when its content type is a simple one), or null when prevention is off. */
export function csrfRequestHeaders(option: CsrfPrevention | undefined): readonly string[] | null {
  if (option === undefined || option === true) return recommendedRequestHeaders;
  if (option === false) return null;
  return option.requestHeaders ?? recommendedRequestHeaders;
}

/** True if Apollo Server would let the request through its CSRF prevention. `header` gets a header's value by lower-case name. */
export function passesCsrfPrevention(header: (name: string) => string | undefined, requestHeaders: readonly string[] | null): boolean {
  if (requestHeaders === null) return true;
  const contentType = header('content-type');
  if (contentType !== undefined) {
    const essence = mimeEssence(contentType);
    // Unparsable (a browser would have preflighted it), or a type that is not safelisted: preflighted.
    if (essence === undefined || !nonPreflightedContentTypes.includes(essence)) return true;
  }
  return requestHeaders.some((name) => {
    const value = header(name.toLowerCase());
    return value !== undefined && value.length > 0;
  });
}

// Essences of the content types seen lately: clients send a handful, and parsing one on every request was a
// visible share of a stored answer's CPU. Cleared when full, so odd values cannot grow it.
const essences = new Map<string, string | undefined>();
const maxEssences = 256;

function mimeEssence(contentType: string): string | undefined {
  if (essences.has(contentType)) return essences.get(contentType);
  let essence: string | undefined;
  try {
    essence = new MIMEType(contentType).essence;
  } catch {
    essence = undefined;
  }
  if (essences.size >= maxEssences) essences.clear();
  essences.set(contentType, essence);
  return essence;
}
