import { expect } from 'vitest';

/** What the hardening tests send and check. */
export interface GraphQLResponse {
  status: number;
  headers: Headers;
  text: string;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

/** POSTs a JSON body (an object is serialised; a string is sent as is). */
export async function postGraphQL(url: string, body: unknown, headers: Record<string, string> = {}): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: GraphQLResponse['body'] = {};
  try {
    parsed = JSON.parse(text) as GraphQLResponse['body'];
  } catch {
    // Not JSON: the test looks at `text`.
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/** Exactly one error, with this HTTP status, code (when given) and message. */
export function expectError(response: GraphQLResponse, status: number, code: string | undefined, message: RegExp): void {
  expect(response.status, response.text.slice(0, 500)).toBe(status);
  expect(response.body.errors).toHaveLength(1);
  const [error] = response.body.errors!;
  expect(error!.message).toMatch(message);
  if (code) expect(error!.extensions?.code).toBe(code);
}

/** Valid GraphQL `depth` levels deep: introspection types nest without end. */
export function deepQuery(depth: number): string {
  let selection = 'name';
  for (let level = 2; level < depth; level += 2) selection = `fields { type { ${selection} } }`;
  return `{ __type(name: "Event") { ${selection} } }`;
}

export function aliasBomb(aliases: number): string {
  return `{ ${Array.from({ length: aliases }, (_, i) => `a${i}: sports { key }`).join(' ')} }`;
}

export function tokenBomb(tokens: number): string {
  return `{ sports { ${'key '.repeat(tokens)}} }`;
}
