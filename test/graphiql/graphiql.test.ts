import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestWorker } from '../../src/ingest/worker.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { anyKind } from '../support/databases.js';

/**
 * The GraphiQL page in a real headless Chromium (Debian's `chromium`; .ci/run
 * installs it): it loads from the gateway alone, runs a query, and shows a
 * subscription's live update. Without Chromium the suite is skipped locally
 * and fails in CI.
 */
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
if (!hasChromium && process.env.CI) {
  throw new Error(`CI requires Chromium for the GraphiQL browser test: ${chromiumPath} not found (apt-get install chromium, as .ci/run does)`);
}
const artifacts = path.resolve(import.meta.dirname, '../artifacts');
/** How long to wait for the page to show something (Monaco's workers, the ingest worker's first batch). */
const waitUpTo = { timeout: 20_000 };

describe.skipIf(!hasChromium)(`GraphiQL in headless Chromium${hasChromium ? '' : ` (skipped: no Chromium at ${chromiumPath}; apt-get install chromium)`}`, () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  let worker: IngestWorker | undefined;
  const requested: string[] = [];
  const socketFrames = { urls: [] as string[], sent: [] as Frame[], received: [] as Frame[] };
  const problems: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1680, height: 1000 } });
    // Every request of the page and its workers, WebSockets included.
    context.on('request', (request) => requested.push(request.url()));
    page = await context.newPage();
    page.on('websocket', (socket) => {
      requested.push(socket.url());
      socketFrames.urls.push(socket.url());
      // Listening from the start: graphql-ws sends connection_init and subscribe within milliseconds.
      socket.on('framesent', ({ payload }) => socketFrames.sent.push(JSON.parse(String(payload)) as Frame));
      socket.on('framereceived', ({ payload }) => socketFrames.received.push(JSON.parse(String(payload)) as Frame));
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A CSP violation shows up as a console error: it would mean the bundle reaches for something outside the gateway.
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await mkdir(artifacts, { recursive: true });
  });
  afterAll(async () => {
    await worker?.stop();
    await browser?.close();
    await gw?.close();
  });

  it('loads the page, the editors and the explorer from the gateway alone', async () => {
    await page.goto(`${gw.gateway.url}/graphiql`);
    await page.locator('.graphiql-container').waitFor();
    // Monaco renders the operation once its editor (and its workers) are up.
    await expect.poll(() => paneText(page, '.graphiql-query-editor'), waitUpTo).toContain(compact('query Board'));
    // GraphiQL's History panel stays beside the explorer.
    await page.getByRole('button', { name: 'Show History' }).waitFor();
    await page.getByRole('button', { name: 'Show GraphiQL Explorer' }).click();
    // The explorer lists the root fields from the schema GraphiQL introspected.
    await page.locator('.graphiql-explorer-root').getByText('oddsHistory', { exact: true }).waitFor();
    expect(requested.length).toBeGreaterThan(0);
    expect(notLoopback(requested)).toEqual([]);
    expect(requested.some((url) => url.includes('.worker-'))).toBe(true);
  });

  it('runs the board query and shows its result in the response pane', async () => {
    const response = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().postData()?.includes('query Board') === true);
    await page.getByRole('button', { name: /^Execute query/ }).click();
    const body = (await (await response).json()) as { data: { events: { totalCount: number; nodes: Array<{ home: string; away: string }> } } };
    const { totalCount, nodes } = body.data.events;
    expect(nodes.length).toBe(20);
    await expect.poll(() => paneText(page, '.result-window'), waitUpTo).toContain(compact(`"totalCount": ${totalCount}`));
    expect(await paneText(page, '.result-window')).toContain(compact(`"home": "${nodes[0]!.home}"`));
    // The explorer opened at the field the test looked for; show its top in the screenshot.
    await page.locator('.graphiql-explorer-root').evaluate((root) => {
      for (let element: typeof root | null = root; element; element = element.parentElement) element.scrollTop = 0;
    });
    await page.screenshot({ path: path.join(artifacts, 'graphiql-board.png') });
    expect(notLoopback(requested)).toEqual([]);
  });

  it("runs the odds-movement example with its variables and shows the event's history", async () => {
    await page.locator('.graphiql-tab').nth(1).click();
    await expect.poll(() => paneText(page, '.graphiql-query-editor'), waitUpTo).toContain(compact('query OddsMovement'));
    await operationNameTaken(page, 'query OddsMovement');
    const response = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().postData()?.includes('OddsMovement') === true);
    await page.getByRole('button', { name: /^Execute query/ }).click();
    const body = (await (await response).json()) as { data: { oddsHistory: Array<{ capturedAt: string; bookmaker: { key: string } }> } };
    expect(body.data.oddsHistory.length).toBeGreaterThan(0);
    expect(body.data.oddsHistory.every((snapshot) => snapshot.bookmaker.key === 'northbet')).toBe(true);
    await expect.poll(() => paneText(page, '.result-window'), waitUpTo).toContain(compact(`"capturedAt": "${body.data.oddsHistory[0]!.capturedAt}"`));
  });

  it('starts the live subscription over graphql-ws and shows an update as the worker stores it', async () => {
    await page.locator('.graphiql-tab').nth(2).click();
    await expect.poll(() => paneText(page, '.graphiql-query-editor'), waitUpTo).toContain(compact('subscription LiveOdds'));
    await operationNameTaken(page, 'subscription LiveOdds');
    await page.getByRole('button', { name: /^Execute query/ }).click();
    // Only once the server has the subscription does a stored batch reach it.
    await expect.poll(() => socketFrames.sent.some((frame) => frame.type === 'subscribe'), waitUpTo).toBe(true);
    await expect.poll(() => gw.pubsub.stats().subscribers, waitUpTo).toBe(1);
    // A cycle a second: the worker's PGlite writes (without PostgreSQL) hold this process's event loop, which also sends the
    // gateway's WebSocket frames and receives Playwright's; back-to-back cycles starved both for 20 s at load 16.
    worker = gw.simulatedWorker({ changesPerSecond: 10 }, { intervalMs: 1000 });
    worker.start();
    const updates = () =>
      socketFrames.received.flatMap((frame) => (frame.type === 'next' && frame.payload?.data ? [frame.payload.data.oddsUpdated] : []));
    await expect.poll(() => updates().length, waitUpTo).toBeGreaterThan(0);
    await worker.stop();
    // The pane shows an update the socket delivered (the latest, which may still be arriving).
    const shown = async () => {
      const text = await paneText(page, '.result-window');
      return updates().some((u) => text.includes(compact(`"capturedAt": "${u.snapshot.capturedAt}"`)) && text.includes(compact(`"id": "${u.event.id}"`)));
    };
    await expect.poll(shown, waitUpTo).toBe(true);
    expect(await paneText(page, '.result-window')).toContain('"oddsUpdated"');
    expect(await paneText(page, '.result-window')).toContain(compact(`"cursor": "${updates().at(-1)!.cursor}"`));
    await page.screenshot({ path: path.join(artifacts, 'graphiql-subscription.png') });
    expect(notLoopback(requested)).toEqual([]);
    expect(socketFrames.urls).toEqual([`${gw.gateway.url.replace('http', 'ws')}/graphql`]);
  });

  it('logged no page errors and no console errors (a CSP violation would be one)', () => {
    expect(problems).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('GraphiQL on a gateway with introspection off (the production default)', () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  const introspections: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({ kind: anyKind, cache: true, shape: 'seeded-small', config: { introspection: false } });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1680, height: 1000 } })).newPage();
    page.on('request', (request) => {
      if (request.postData()?.includes('__schema')) introspections.push(request.postData()!);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // Chromium logs the probe's refusal (HTTP 400) as a failed resource; anything else is a problem.
      if (message.type() === 'error' && !/status of 400/.test(message.text())) problems.push(`console error: ${message.text()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('says introspection is off instead of showing an empty explorer, and still runs a query', async () => {
    await page.goto(`${gw.gateway.url}/graphiql`);
    const notice = page.getByRole('status').filter({ hasText: 'Introspection is off on this gateway' });
    await notice.waitFor();
    expect(await notice.innerText()).toMatch(/INTROSPECTION=on/);
    expect(await notice.innerText()).toContain('"__schema" cannot be queried');
    await expect.poll(() => paneText(page, '.graphiql-query-editor'), waitUpTo).toContain(compact('query Board'));
    expect(await page.getByRole('button', { name: 'Show GraphiQL Explorer' }).count()).toBe(0);
    // One probe, and GraphiQL sent no introspection of its own.
    expect(introspections).toHaveLength(1);
    expect(introspections[0]).toContain('IntrospectionProbe');

    const response = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().postData()?.includes('query Board') === true);
    await page.getByRole('button', { name: /^Execute query/ }).click();
    const body = (await (await response).json()) as { data: { events: { totalCount: number } } };
    await expect.poll(() => paneText(page, '.result-window'), waitUpTo).toContain(compact(`"totalCount": ${body.data.events.totalCount}`));
    await page.screenshot({ path: path.join(artifacts, 'graphiql-introspection-off.png') });
    expect(problems).toEqual([]);
  });
});

/**
 * Waits until GraphiQL has taken the operation name from the editor, which it does in a handler debounced after each
 * change of the editor (a tab switch is one): run before it and GraphiQL sends the last tab's operation name. The
 * same handler first stores the editor's text under `graphiql:query`, so that text showing `operation` is the sign.
 */
async function operationNameTaken(page: Page, operation: string): Promise<void> {
  // Runs in the page: the Node.js types know no localStorage.
  const storedQuery = () => (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage.getItem('graphiql:query');
  await expect.poll(() => page.evaluate(storedQuery), waitUpTo).toContain(operation);
}

function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A graphql-ws protocol message, as far as these tests read it. */
interface Frame {
  type: string;
  payload?: { data?: { oddsUpdated: { cursor: string; event: { id: string }; snapshot: { capturedAt: string } } } };
}

/** The URLs that went anywhere but this machine (data: and blob: URLs never leave it). */
function notLoopback(urls: string[]): string[] {
  return urls.filter((url) => {
    const { protocol, hostname } = new URL(url);
    if (protocol === 'data:' || protocol === 'blob:') return false;
    return !['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
  });
}

/** What a Monaco editor shows (its rendered lines), without whitespace: the response pane wraps long lines anywhere. */
async function paneText(page: Page, selector: string): Promise<string> {
  return compact(await page.locator(`${selector} .view-lines`).first().innerText());
}

function compact(text: string): string {
  return text.replace(/\s+/gu, '');
}
