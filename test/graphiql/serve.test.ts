import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultGraphiqlDir } from '../../src/api/graphiql/paths.js';
import { createGraphiqlHandler } from '../../src/api/graphiql/serve.js';
import { listen } from '../../src/ops/listen.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { anyKind } from '../support/databases.js';

const browserAccept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** A server with only the GraphiQL handler in front; what it leaves alone gets 418, so a test can see the fall-through. */
async function serveBundle(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const graphiql = createGraphiqlHandler(dir);
  const server = http.createServer((req, res) => {
    const handled = graphiql(req, res);
    if (handled) handled.catch(() => res.destroy());
    else res.writeHead(418).end('not GraphiQL');
  });
  const url = await listen(server, 0, '127.0.0.1');
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('the GraphiQL handler', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof serveBundle>>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'oddsgate-graphiql-'));
    server = await serveBundle(dir);
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 with how to build it while the bundle is missing, for the page, the landing page and assets', async () => {
    for (const [url, accept] of [
      ['/graphiql', browserAccept],
      ['/graphql', browserAccept],
      ['/graphiql/assets/app-ABC.js', '*/*'],
    ] as const) {
      const response = await fetch(server.url + url, { headers: { accept } });
      expect(response.status, url).toBe(503);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await response.text()).toContain('npm run build');
    }
  });

  describe('with a bundle', () => {
    beforeAll(async () => {
      await mkdir(path.join(dir, 'assets'));
      await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>GraphiQL</title>');
      await writeFile(path.join(dir, 'assets', 'app-ABC.js'), 'console.log(1)');
      await writeFile(path.join(dir, 'assets', 'app-ABC.js.gz'), gzipSync('console.log(1)'));
      await writeFile(path.join(dir, 'assets', 'app-ABC.css'), 'body{}');
      await writeFile(path.join(dir, 'assets', 'notes.txt'), 'not an asset type');
    });

    it('serves the page uncached, with a same-origin-only content security policy, at /graphiql and /graphiql/', async () => {
      for (const url of ['/graphiql', '/graphiql/']) {
        const response = await fetch(server.url + url);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(response.headers.get('cache-control')).toBe('no-cache');
        expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
        expect(await response.text()).toBe('<!doctype html><title>GraphiQL</title>');
      }
    });

    it('serves hashed assets with their content type and an immutable cache lifetime', async () => {
      const js = await fetch(`${server.url}/graphiql/assets/app-ABC.js`, { headers: { 'accept-encoding': 'identity' } });
      expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(js.headers.get('content-encoding')).toBeNull();
      expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(await js.text()).toBe('console.log(1)');
      const css = await fetch(`${server.url}/graphiql/assets/app-ABC.css`);
      expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    });

    it('sends the gzipped copy of an asset to a client that accepts gzip', async () => {
      for (const acceptEncoding of ['gzip, deflate, br', 'br;q=1.0, gzip;q=0.8']) {
        const response = await fetch(`${server.url}/graphiql/assets/app-ABC.js`, { headers: { 'accept-encoding': acceptEncoding } });
        expect(response.headers.get('content-encoding')).toBe('gzip');
        expect(response.headers.get('vary')).toBe('accept-encoding');
        expect(await response.text()).toBe('console.log(1)');
      }
      const refused = await fetch(`${server.url}/graphiql/assets/app-ABC.js`, { headers: { 'accept-encoding': 'gzip;q=0, br' } });
      expect(refused.headers.get('content-encoding')).toBeNull();
      // A CSS file the build left without a gzipped copy goes as it is.
      const css = await fetch(`${server.url}/graphiql/assets/app-ABC.css`, { headers: { 'accept-encoding': 'gzip' } });
      expect(css.headers.get('content-encoding')).toBeNull();
      expect(await css.text()).toBe('body{}');
    });

    it('answers HEAD with the headers and no body', async () => {
      const response = await fetch(`${server.url}/graphiql/assets/app-ABC.js`, { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String('console.log(1)'.length));
      expect(await response.text()).toBe('');
    });

    it('answers 404 for unknown assets, other file types and paths out of the assets folder', async () => {
      for (const name of ['app-OLD.js', 'app-ABC.js.gz', 'notes.txt', '..%2Findex.html', '', 'sub/app-ABC.js']) {
        const response = await fetch(`${server.url}/graphiql/assets/${name}`);
        expect(response.status, name).toBe(404);
        expect(await response.text()).not.toContain('doctype');
      }
    });

    it('answers 405 to other methods', async () => {
      const response = await fetch(`${server.url}/graphiql`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    });

    it("takes a browser's GET of /graphql and leaves GraphQL requests alone", async () => {
      const landing = await fetch(`${server.url}/graphql`, { headers: { accept: browserAccept } });
      expect(landing.status).toBe(200);
      expect(await landing.text()).toContain('GraphiQL');
      const leftAlone = [
        fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: browserAccept } }),
        fetch(`${server.url}/graphql`, { headers: { accept: 'application/graphql-response+json, application/json' } }),
        fetch(`${server.url}/graphql`, { method: 'POST', headers: { accept: browserAccept, 'content-type': 'application/json' }, body: '{}' }),
        fetch(`${server.url}/health`, { headers: { accept: browserAccept } }),
      ];
      for (const response of await Promise.all(leftAlone)) expect(response.status).toBe(418);
    });
  });
});

describe('GraphiQL on the gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    if (!existsSync(path.join(defaultGraphiqlDir, 'index.html'))) {
      throw new Error(`No GraphiQL bundle in ${defaultGraphiqlDir}: run npm run build (npm test does)`);
    }
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small' });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('serves the built page at /graphiql and as the browser landing page of /graphql, with every asset it names', async () => {
    const page = await (await fetch(`${gw.gateway.url}/graphiql`)).text();
    const landing = await fetch(`${gw.gateway.url}/graphql`, { headers: { accept: browserAccept } });
    expect(await landing.text()).toBe(page);
    const assets = [...page.matchAll(/(?:src|href)="(\/graphiql\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.map((asset) => path.extname(asset)).sort()).toEqual(['.css', '.js']);
    for (const asset of assets) {
      const response = await fetch(gw.gateway.url + asset);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('cache-control')).toContain('immutable');
      expect(response.headers.get('content-encoding')).toBe('gzip');
    }
  });

  it('still answers GraphQL over HTTP GET with a query, whatever the Accept header', async () => {
    for (const accept of [browserAccept, 'application/json']) {
      const response = await fetch(`${gw.gateway.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
        headers: { accept, 'apollo-require-preflight': 'true' },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });
});
