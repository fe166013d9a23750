import { createHash } from 'node:crypto';
import type { ApolloServer, HTTPGraphQLRequest, HTTPGraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { Kind, OperationTypeNode, parse, print } from 'graphql';
import { LRUCache } from 'lru-cache';
import { type CacheKey } from '../domain/cache-keys.js';
import type { GraphQLContext } from './context.js';
import { csrfRequestHeaders, passesCsrfPrevention, type CsrfPrevention } from './csrf.js';
import type { RequestReads } from './request-reads.js';
import { SegmentedLru } from './segmented-lru.js';

/**
 * A response-level cache in front of Apollo Server: a repeated query (same
 * normalised document, operation name, variables and Accept header) is
 * answered with the bytes of an earlier answer, without parsing, executing or
 * serialising anything.
 *
 * Freshness rests on one rule: a stored response must not have read any
 * cache entry that changed after its execution began. Each request records
 * the OddsCache keys it reads (its tags); every write to the shared cache
 * (src/read/cache-writes.ts, the one point where an event's odds are replaced,
 * whoever the writer is) stamps that key with a new generation; a response
 * is stored, shared with identical requests in flight, or served from the
 * cache only while none of its tags carries a generation newer than the one
 * at which its execution began. The in-memory board's membership (events
 * joining or leaving) is checked the same way through its version. So a
 * request that arrives after an update was published never gets a response
 * computed before it. Responses that read the database directly (pages
 * outside the board) are never stored; history comes from memory (src/read/history-cache.ts), tagged with the event's odds.
 */
export interface ResponseCacheOptions {
  /**
   * Upper bound of the stored responses, in bytes (default 128 MiB: a board's usual variants, filters x
   * page sizes x pages, with room). Segmented: what is asked for again is protected from scans.
   */
  maxBytes?: number;
  /**
   * How long a response may be served at most, in milliseconds (default 60,000): a backstop. Every change
   * a response depends on is announced (its tags, the board's version) but one, the board's window sliding
   * past an event's kick-off + 2 h, and that moment is known in advance (`boardStableForMs`).
   */
  maxAgeMs?: number;
  /** A number that changes whenever the board's membership does (BoardIndex.version); absent = no board. */
  boardVersion?: () => number;
  /** For how many milliseconds the board's membership stays as it is by the clock alone (BoardIndex.stableForMs). */
  boardStableForMs?: () => number;
  /** True while responses should be computed afresh (the database is down: reads are then counted as stale serves). */
  bypass?: () => boolean;
  /** Told of each answer that skipped Apollo (a stored or shared response), so request metrics count it like any other. */
  countCachedAnswer?: (seconds: number) => void;
  /** Apollo Server's `csrfPrevention` option, the same value (default: on, as Apollo's): what Apollo refuses is never answered here. */
  csrfPrevention?: CsrfPrevention;
}

export interface ResponseCacheStats {
  hits: number;
  /** Hits found by the raw request (headers and body as received), before any parsing: part of `hits`. */
  rawHits: number;
  misses: number;
  /** Requests answered by an identical request already in flight. */
  shared: number;
  stored: number;
  /** Stored responses found stale on lookup (a tag or the board changed). */
  stale: number;
  /** Cache writes that made the responses reading them stale (`invalidate`), and whole clears. */
  invalidations: number;
  /** Stored responses dropped for room (least recently asked for first, protected ones last). */
  evictions: number;
  /** Misses not stored: the first sight of their key (a one-off is not worth room; the second sight is stored). */
  firstSights: number;
  entries: number;
  bytes: number;
}

interface Entry {
  /** The body encoded once (and only so: a string copy would double the bytes): writing a 600 KB string re-encodes it on every send. */
  bytes: Buffer;
  /** When it may no longer be served (performance.now()): `maxAgeMs` after its execution began, or sooner when the board's window moves. */
  expiresAt: number;
  tags: CacheKey[];
  generation: number;
  boardVersion: number;
  /** The generation at which its tags were last found unchanged: until another invalidation, no need to look again. */
  checkedAt: number;
  /** What every hit answers with: built once, as each one built anew was a visible share of a hit's CPU. Read-only. */
  response: HTTPGraphQLResponse;
}

/** What the HTTP layer calls (src/api/http-server.ts): Apollo Server, or this cache in front of it. */
export interface GraphQLExecutor {
  /** `rawBody`: a POST's body as it arrived, before the HTTP layer parsed it (what `storedAnswer` is keyed by). */
  executeHTTPGraphQLRequest(args: ExecuteArgs, rawBody?: string): Promise<HTTPGraphQLResponse>;
  /** A stored answer to a POST, found by its headers (`header`: by lower-case name) and raw body before anything parses them; undefined: execute it. */
  storedAnswer?(header: (name: string) => string | undefined, rawBody: string): HTTPGraphQLResponse | undefined;
}

type ExecuteArgs = Parameters<ApolloServer<GraphQLContext>['executeHTTPGraphQLRequest']>[0];

interface NormalisedDocument {
  printed: string;
  /** Operation type by name ('' for the document's only anonymous or single operation). */
  types: Map<string, OperationTypeNode>;
}

/** The response cache's default byte budget (RESPONSE_CACHE_MAX_BYTES). */
const defaultResponseCacheBytes = 128 * 1024 * 1024;

// Distinct documents whose normal form is remembered; a client sending endless new documents clears it.
const maxDocuments = 1_000;
// Keys remembered for admission (digests of 28 characters: about 1 MiB).
const maxSeenKeys = 16_384;
// Raw requests whose key is remembered, in characters of raw and key (one byte each for ASCII): 4 MiB.
const maxRawKeyChars = 4 * 1024 * 1024;
// Tags whose generation is remembered; past this every stored response is dropped and counting restarts.
const maxTags = 200_000;

export class ResponseCache {
  readonly #entries: SegmentedLru<string, Entry>;
  readonly #maxAgeMs: number;
  readonly #inFlight = new Map<string, Promise<Entry | undefined>>();
  readonly #tagGenerations = new Map<CacheKey, number>();
  readonly #documents = new Map<string, NormalisedDocument | null>();
  /** Raw request (`#rawKey`) -> key, for the stored answers: a repeat is answered before its JSON is parsed and its document normalised. */
  readonly #rawKeys = new LRUCache<string, string>({ maxSize: maxRawKeyChars, sizeCalculation: (key, raw) => raw.length + key.length });
  readonly #boardVersion: () => number;
  readonly #boardStableForMs: () => number;
  readonly #bypass: () => boolean;
  readonly #countCachedAnswer: (seconds: number) => void;
  readonly #csrfRequestHeaders: readonly string[] | null;
  #generation = 0;
  #clearedAt = 0;
  /** Keys seen lately (as digests): a response is stored on its key's second sight, so one-offs pass by. */
  readonly #seen = new LRUCache<string, true>({ max: maxSeenKeys });
  /** Keys in flight that identical requests wait on: their leader keeps its answer for them. */
  readonly #awaited = new Set<string>();
  readonly #stats = { hits: 0, rawHits: 0, misses: 0, shared: 0, stored: 0, stale: 0, invalidations: 0, evictions: 0, firstSights: 0 };

  constructor({
    maxBytes = defaultResponseCacheBytes,
    maxAgeMs = 60_000,
    boardVersion = () => 0,
    boardStableForMs = () => Infinity,
    bypass = () => false,
    countCachedAnswer = () => {},
    csrfPrevention,
  }: ResponseCacheOptions = {}) {
    this.#entries = new SegmentedLru<string, Entry>({
      maxSize: maxBytes,
      // The tags' strings and headers too: a few KB beside a board page's hundreds.
      sizeOf: (e) => e.bytes.length + 64 * (e.tags.length + e.response.headers.size),
      ttlMs: maxAgeMs,
      onEvict: () => this.#stats.evictions++,
    });
    this.#maxAgeMs = maxAgeMs;
    this.#boardVersion = boardVersion;
    this.#boardStableForMs = boardStableForMs;
    this.#bypass = bypass;
    this.#countCachedAnswer = countCachedAnswer;
    this.#csrfRequestHeaders = csrfRequestHeaders(csrfPrevention);
  }

  /** The cache entry `key` changed: responses that read it are stale from now on. */
  invalidate(key: CacheKey): void {
    if (this.#tagGenerations.size >= maxTags && !this.#tagGenerations.has(key)) {
      this.#tagGenerations.clear();
      this.#entries.clear();
    }
    this.#tagGenerations.set(key, ++this.#generation);
    this.#stats.invalidations++;
  }

  /** Drops every stored response (a whole kind of cache entries changed). */
  clear(): void {
    this.#entries.clear();
    // Responses whose execution began before now must not be stored either.
    this.#clearedAt = ++this.#generation;
    this.#stats.invalidations++;
  }

  stats(): ResponseCacheStats {
    return { ...this.#stats, entries: this.#entries.size, bytes: this.#entries.calculatedSize };
  }

  /** Apollo Server behind this cache, for the HTTP layer. */
  executor(apollo: GraphQLExecutor): GraphQLExecutor {
    return {
      executeHTTPGraphQLRequest: (args, rawBody) => this.#execute(apollo, args, rawBody),
      storedAnswer: (header, rawBody) => this.#storedAnswer(header, rawBody),
    };
  }

  #storedAnswer(header: (name: string) => string | undefined, rawBody: string): HTTPGraphQLResponse | undefined {
    const started = performance.now();
    if (this.#bypass()) return undefined;
    const key = this.#rawKeys.get(this.#rawKey(header, rawBody));
    // Not fresh: the full path counts it stale and executes.
    const cached = key === undefined ? undefined : this.#fresh(this.#entries.get(key));
    if (!cached) return undefined;
    this.#stats.hits++;
    this.#stats.rawHits++;
    return this.#answer(cached, started);
  }

  /**
   * Everything the way from raw request to key reads: the HTTP layer's choice to parse the body as JSON
   * (content type), Apollo's CSRF verdict, the Accept header and the body. Headers hold no line breaks.
   */
  #rawKey(header: (name: string) => string | undefined, rawBody: string): string {
    const preflighted = passesCsrfPrevention(header, this.#csrfRequestHeaders);
    return `${preflighted ? 1 : 0}\n${header('content-type') ?? ''}\n${header('accept') ?? ''}\n${rawBody}`;
  }

  async #execute(apollo: GraphQLExecutor, args: ExecuteArgs, rawBody: string | undefined): Promise<HTTPGraphQLResponse> {
    const started = performance.now();
    const request = args.httpGraphQLRequest;
    const key = this.#keyFor(request);
    if (key === undefined || this.#bypass()) return apollo.executeHTTPGraphQLRequest(args);
    // Once stored (or found), a repeat of the same raw request skips the parsing that led here.
    const rememberRaw = () => rawBody !== undefined && this.#rawKeys.set(this.#rawKey((name) => request.headers.get(name), rawBody), key);
    const cached = this.#fresh(this.#entries.get(key));
    if (cached) {
      this.#stats.hits++;
      rememberRaw();
      return this.#answer(cached, started);
    }
    if (this.#entries.has(key)) {
      this.#stats.stale++;
      this.#entries.delete(key);
    }
    const inFlight = this.#inFlight.get(key);
    if (inFlight) {
      this.#awaited.add(key);
      // Only an answer still fresh now: the leader began before this request arrived.
      const shared = this.#fresh(await inFlight);
      if (shared) {
        this.#stats.shared++;
        return this.#answer(shared, started);
      }
    }
    this.#stats.misses++;
    const generation = this.#generation;
    const boardVersion = this.#boardVersion();
    // Taken before execution, as the generation is: an event leaving the window during it makes the answer old.
    const expiresAt = performance.now() + Math.min(this.#maxAgeMs, this.#boardStableForMs());
    let settle!: (entry: Entry | undefined) => void;
    const leading = !this.#inFlight.has(key);
    if (leading) this.#inFlight.set(key, new Promise((resolve) => (settle = resolve)));
    let entry: Entry | undefined;
    try {
      const context = await args.context();
      const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: args.httpGraphQLRequest, context: async () => context });
      const admitted = this.#secondSight(key);
      if (admitted || this.#awaited.has(key)) entry = this.#storable(response, context.reads, generation, boardVersion, expiresAt);
      if (entry && admitted) {
        this.#entries.set(key, entry);
        this.#stats.stored++;
        rememberRaw();
      }
      // Encoded once: the HTTP layer sends these bytes rather than encoding the string again.
      if (entry) encodedBodies.set(response, entry.bytes);
      return response;
    } finally {
      if (leading) {
        this.#inFlight.delete(key);
        this.#awaited.delete(key);
        settle(entry);
      }
    }
  }

  /** True if `key` was seen lately (then it is stored); else remembers it. */
  #secondSight(key: string): boolean {
    const digest = createHash('sha1').update(key).digest('base64');
    if (this.#seen.has(digest)) return true;
    this.#seen.set(digest, true);
    this.#stats.firstSights++;
    return false;
  }

  #answer(entry: Entry, started: number): HTTPGraphQLResponse {
    this.#countCachedAnswer((performance.now() - started) / 1000);
    return entry.response;
  }

  /** The entry, if nothing it read has changed since its execution began. */
  #fresh(entry: Entry | undefined): Entry | undefined {
    if (!entry || performance.now() >= entry.expiresAt || entry.boardVersion !== this.#boardVersion()) return undefined;
    // Every invalidation (and clear) moves the generation: while it stays, the tags' generations do too.
    if (entry.checkedAt !== this.#generation) {
      if (!this.#unchangedSince(entry.tags, entry.generation, entry.boardVersion)) return undefined;
      entry.checkedAt = this.#generation;
    }
    return entry;
  }

  #unchangedSince(tags: readonly CacheKey[], generation: number, boardVersion: number): boolean {
    if (boardVersion !== this.#boardVersion() || generation < this.#clearedAt) return false;
    for (const tag of tags) if ((this.#tagGenerations.get(tag) ?? 0) > generation) return false;
    return true;
  }

  #storable(response: HTTPGraphQLResponse, reads: RequestReads | undefined, generation: number, boardVersion: number, expiresAt: number): Entry | undefined {
    if (!reads || reads.uncacheable || (response.status ?? 200) !== 200 || response.body.kind !== 'complete') return undefined;
    const body = response.body.string;
    // `"errors":` can only be a key in JSON (inside strings the quotes are escaped): the answer has errors.
    if (body.includes('"errors":')) return undefined;
    const tags = [...reads.keys];
    if (!this.#unchangedSince(tags, generation, boardVersion)) return undefined;
    // The request id belongs to the request that computed it, not to the ones that reuse it.
    const headers = [...response.headers].filter(([name]) => name !== 'x-request-id');
    const bytes = Buffer.from(body, 'utf8');
    return { bytes, expiresAt, tags, generation, boardVersion, checkedAt: this.#generation, response: storedResponse(bytes, headers) };
  }

  /** The key of a cacheable request (a POSTed JSON query), or undefined. */
  #keyFor(request: HTTPGraphQLRequest): string | undefined {
    if (request.method !== 'POST' || typeof request.body !== 'object' || request.body === null) return undefined;
    // Apollo answers what its CSRF prevention refuses, with its error.
    if (!passesCsrfPrevention((name) => request.headers.get(name), this.#csrfRequestHeaders)) return undefined;
    const { query, operationName, variables, extensions, ...rest } = request.body as Record<string, unknown>;
    if (typeof query !== 'string' || extensions !== undefined || Object.keys(rest).length > 0) return undefined;
    if (operationName != null && typeof operationName !== 'string') return undefined;
    if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
    const document = this.#normalise(query);
    if (document?.types.get(operationName ?? '') !== OperationTypeNode.QUERY) return undefined;
    return `${request.headers.get('accept') ?? ''}\n${operationName ?? ''}\n${document.printed}\n${canonicalJson(variables ?? {})}`;
  }

  #normalise(query: string): NormalisedDocument | null {
    let document = this.#documents.get(query);
    if (document !== undefined) return document;
    try {
      const parsed = parse(query);
      const operations = parsed.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      const types = new Map(operations.map((op) => [op.name?.value ?? '', op.operation]));
      // Without an operationName, a document with one operation runs it.
      if (operations.length === 1) types.set('', operations[0]!.operation);
      document = { printed: print(parsed), types };
    } catch {
      document = null; // Apollo answers the syntax error.
    }
    if (this.#documents.size >= maxDocuments) this.#documents.clear();
    this.#documents.set(query, document);
    return document;
  }
}

const encodedBodies = new WeakMap<HTTPGraphQLResponse, Buffer>();

function storedResponse(bytes: Buffer, headers: Array<[string, string]>): HTTPGraphQLResponse {
  // The HTTP layer sends the bytes (`encodedBody`); other callers get them decoded.
  const body = { kind: 'complete' as const, get string() { return bytes.toString('utf8'); } };
  const response: HTTPGraphQLResponse = { status: 200, headers: new HeaderMap(headers), body };
  encodedBodies.set(response, bytes);
  return response;
}

/** A cached response's body as bytes, encoded when it was stored; undefined for any other response. */
export function encodedBody(response: HTTPGraphQLResponse): Buffer | undefined {
  return encodedBodies.get(response);
}

/** JSON with object keys sorted, so `{a, b}` and `{b, a}` name the same variables. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
