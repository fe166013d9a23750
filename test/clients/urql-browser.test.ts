import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/ops/listen.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import type { UrqlSetting } from './browser/urql-app.js';
import { anyKind } from '../support/databases.js';

/**
 * urql (`@urql/core`) in headless Chromium, on a page served from another
 * origin than the gateway: the browser itself enforces CORS and sends the
 * preflights, so this is what a Vite app sees. Without Chromium the suite is
 * skipped locally and fails in CI (as the GraphiQL browser test does).
 */
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.CI) throw new Error(`CI requires Chromium for the urql browser test: ${chromiumPath} not found`);

describe.skipIf(!hasChromium)('urql in a browser app on another origin', () => {
  let gw: TestGateway;
  let app: http.Server;
  let appOrigin: string;
  let browser: Browser;
  let context: BrowserContext;
  const methods: string[] = [];

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [path.join(import.meta.dirname, 'browser/urql-app.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
    });
    const script = bundle.outputFiles[0]!.text;
    app = http.createServer((req, res) => {
      if (req.url === '/app.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/app.js"></script>');
    });
    appOrigin = await listen(app, 0, '127.0.0.1');
    // Only the app's origin: http://localhost:<same port> is another origin, and is refused.
    gw = await startTestGateway({
      kind: anyKind,
      cache: true,
      shape: 'seeded-small',
      config: { corsOrigins: { kind: 'list', origins: [appOrigin] }, corsCredentials: false },
    });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    context = await browser.newContext();
    context.on('request', (request) => {
      if (request.url().startsWith(gw.gateway.url)) methods.push(request.method());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await new Promise((resolve) => app?.close(resolve));
  });

  async function runUrql(origin: string, setting: UrqlSetting): Promise<{ data?: unknown; error?: string }> {
    const page = await context.newPage();
    try {
      await page.goto(origin);
      await page.waitForFunction(() => 'runUrql' in globalThis);
      return await page.evaluate(
        ([url, s]) => (globalThis as unknown as { runUrql: (u: string, s: string) => Promise<{ data?: unknown; error?: string }> }).runUrql(url!, s!),
        [`${gw.gateway.url}/graphql`, setting],
      );
    } finally {
      await page.close();
    }
  }

  const sports = { sports: expect.arrayContaining([{ key: 'football', name: 'Football' }]) };

  it("keeps urql's GET with the one header the README names (the browser preflights it, the gateway allows it)", async () => {
    methods.length = 0;
    expect(await runUrql(appOrigin, 'preflight-header')).toEqual({ data: sports });
    // Chromium sends its preflight out of the page's sight; a GET with a non-safelisted header goes out only after one passed.
    expect(methods).toEqual(['GET']);
  });

  it('works with POST instead (preferGetMethod: false)', async () => {
    methods.length = 0;
    expect(await runUrql(appOrigin, 'post')).toEqual({ data: sports });
    expect(methods).toEqual(['POST']);
  });

  it("refuses urql's bare default (a GET no browser preflights) as a CSRF risk, with a message the app can read", async () => {
    const { data, error } = await runUrql(appOrigin, 'default');
    expect(data).toBeUndefined();
    expect(error).toMatch(/Cross-Site Request Forgery.*apollo-require-preflight/);
  });

  it('gives a page on an origin not in CORS_ORIGINS nothing it can read', async () => {
    const { data, error } = await runUrql(appOrigin.replace('127.0.0.1', 'localhost'), 'post');
    expect(data).toBeUndefined();
    expect(error).toMatch(/\[Network\] Failed to fetch/);
  });
});
