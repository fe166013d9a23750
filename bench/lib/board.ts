import { boardIdsQuery } from '../queries.js';
import { httpRequest } from './http.js';

/** POSTs to `${url}/graphql`; throws unless the answer is 200 with data and no errors. */
export async function postGraphQL(url: string, body: string): Promise<{ text: string; contentType: string }> {
  const { status, text, contentType } = await httpRequest(`${url}/graphql`, body);
  const parsed = JSON.parse(text) as { data?: unknown; errors?: unknown };
  if (status !== 200 || parsed.errors || !parsed.data) throw new Error(`GraphQL request failed (${status}): ${text.slice(0, 500)}`);
  return { text, contentType };
}

/** Every event id on the gateway's board, page by page. */
export async function boardEventIds(url: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (;;) {
    const { text } = await postGraphQL(url, JSON.stringify({ query: boardIdsQuery, variables: { after } }));
    const page = (JSON.parse(text) as { data: { events: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Array<{ id: string }> } } }).data.events;
    ids.push(...page.nodes.map((n) => n.id));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
}
