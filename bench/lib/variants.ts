import { boardQuery } from '../../test/graphql/queries.js';
import { eventDetailQuery } from '../queries.js';

/** What a frontend varies on the board: filters, page sizes and pages (walked by `endCursor`). */
const filters: Array<Record<string, unknown>> = [
  {},
  { sport: 'football' },
  { sport: 'basketball' },
  { sport: 'ice-hockey' },
  { sport: 'tennis' },
  { competition: 'eng-premier' },
  { competition: 'esp-primera' },
  { sport: 'football', hasOdds: true },
  { status: ['SCHEDULED'] },
  { status: ['LIVE', 'SCHEDULED'], sport: 'football' },
];
const pageSizes = [10, 20, 50];

const cursorsQuery = /* GraphQL */ `
  query Pages($first: Int, $after: String, $filter: EventFilter) {
    events(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } }
  }
`;

type Post = (body: string) => Promise<string>;

/**
 * `count` distinct board requests (the test suite's board shape): every filter x page size, its pages
 * walked by `endCursor`, taken first pages first; bodies as POSTed.
 */
export async function boardVariants(post: Post, count: number): Promise<string[]> {
  const walks: Array<{ filter: Record<string, unknown>; first: number; afters: Array<string | null> }> = [];
  for (const filter of filters) for (const first of pageSizes) walks.push({ filter, first, afters: await pageCursors(post, filter, first, 12) });
  const bodies: string[] = [];
  for (let page = 0; bodies.length < count && walks.some((w) => page < w.afters.length); page++) {
    for (const { filter, first, afters } of walks) {
      if (page >= afters.length || bodies.length >= count) continue;
      const after = afters[page];
      bodies.push(JSON.stringify({ query: boardQuery, variables: { first, filter, ...(after !== null && { after }) } }));
    }
  }
  if (bodies.length < count) throw new Error(`only ${bodies.length} board variants in the seeded data, not ${count}`);
  return bodies;
}

/** The `after` of each page (null for the first), at most `pages`. */
async function pageCursors(post: Post, filter: Record<string, unknown>, first: number, pages: number): Promise<Array<string | null>> {
  const afters: Array<string | null> = [null];
  while (afters.length < pages) {
    const after = afters[afters.length - 1];
    const text = await post(JSON.stringify({ query: cursorsQuery, variables: { first, filter, after } }));
    const { pageInfo } = (JSON.parse(text) as { data: { events: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } } }).data.events;
    if (!pageInfo.hasNextPage || pageInfo.endCursor === null) break;
    afters.push(pageInfo.endCursor);
  }
  return afters;
}

/** The event page (odds and the last 20 snapshots of history) of each id. */
export function eventDetailBodies(ids: readonly string[]): string[] {
  return ids.map((id) => JSON.stringify({ query: eventDetailQuery, variables: { id } }));
}

/**
 * `body` made unique by an extra variable the operation does not declare: GraphQL ignores it, the
 * response cache does not, so every request is a miss (a cold response cache) with the same answer.
 */
export function uncached(body: string, nonce: number): string {
  const request = JSON.parse(body) as { variables?: Record<string, unknown> };
  return JSON.stringify({ ...request, variables: { _nonce: nonce, ...request.variables } });
}

/** The first `count` board events' ids, walked 200 at a time. */
export async function boardEventIds(post: Post, count: number): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  while (ids.length < count) {
    const text = await post(JSON.stringify({ query: 'query($after: String) { events(first: 200, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } }', variables: { after } }));
    const page = (JSON.parse(text) as { data: { events: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Array<{ id: string }> } } }).data.events;
    ids.push(...page.nodes.map((n) => n.id));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return ids.slice(0, count);
}
