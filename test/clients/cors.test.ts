import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { anyKind } from '../support/databases.js';

const app = 'https://app.example.com';
const board = JSON.stringify({ query: '{ events(first: 1) { totalCount } }' });

describe('CORS for browser apps on other origins', () => {
  let gw: TestGateway;
  let graphql: string;
  beforeAll(async () => {
    gw = await startTestGateway({
      kind: anyKind,
      cache: true,
      shape: 'seeded-small',
      config: { corsOrigins: { kind: 'list', origins: [app] }, corsCredentials: false },
    });
    graphql = `${gw.gateway.url}/graphql`;
  });
  afterAll(() => gw?.close());

  const preflight = (origin: string, headers = 'content-type') =>
    fetch(graphql, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
    });

  it('answers a preflight from an allowed origin with 204 and the headers a browser checks, before CSRF prevention', async () => {
    const response = await preflight(app, 'content-type,apollo-require-preflight');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(app);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type,apollo-require-preflight');
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toMatch(/Origin/);
  });

  it('gives a disallowed origin no CORS headers: its preflight is refused and its answers are unreadable to the page', async () => {
    const refused = await preflight('https://evil.example');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/https:\/\/evil\.example is not allowed.*CORS_ORIGINS/) });

    const post = await fetch(graphql, { method: 'POST', headers: { origin: 'http://localhost:5173', 'content-type': 'application/json' }, body: board });
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("lets an allowed origin's page read answers and the request id", async () => {
    const post = await fetch(graphql, { method: 'POST', headers: { origin: app, 'content-type': 'application/json' }, body: board });
    expect(post.status).toBe(200);
    expect(post.headers.get('access-control-allow-origin')).toBe(app);
    expect(post.headers.get('access-control-expose-headers')).toBe('x-request-id');
    expect(await post.json()).toEqual({ data: { events: { totalCount: expect.any(Number) } } });
  });

  it('still refuses a cross-site request that skipped the preflight (CSRF prevention), with CORS headers so the page can read why', async () => {
    const get = await fetch(`${graphql}?query=${encodeURIComponent('{ sports { key } }')}`, { headers: { origin: app } });
    expect(get.status).toBe(400);
    expect(get.headers.get('access-control-allow-origin')).toBe(app);
    expect(await get.text()).toMatch(/Cross-Site Request Forgery/);
  });

  it('answers a plain OPTIONS (no preflight) with the methods /graphql takes', async () => {
    const response = await fetch(graphql, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('allow')).toBe('GET, POST, OPTIONS');
  });
});

describe('CORS configuration', () => {
  it('allows localhost origins in development and none in production', () => {
    expect(loadConfig({}).corsOrigins).toEqual({ kind: 'localhost' });
    expect(loadConfig({ NODE_ENV: 'production' }).corsOrigins).toEqual({ kind: 'list', origins: [] });
  });

  it('reads a list of origins, or * for any', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://b.example:8080', NODE_ENV: 'production' })).toMatchObject({
      corsOrigins: { kind: 'list', origins: ['https://a.example', 'http://b.example:8080'] },
      corsCredentials: false,
    });
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual({ kind: 'any' });
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example', CORS_CREDENTIALS: 'on' }).corsCredentials).toBe(true);
  });

  it('refuses what is not an origin, and credentials for any origin, naming the variable', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/app' })).toThrow(/CORS_ORIGINS must be `\*` or comma-separated origins.*got "https:\/\/a.example\/app"/);
    expect(() => loadConfig({ CORS_ORIGINS: 'a.example' })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: '*', CORS_CREDENTIALS: 'on' })).toThrow(/CORS_CREDENTIALS cannot be on with CORS_ORIGINS=\*/);
  });
});
