import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeedTooLargeError } from '../../src/ingest/feeds/bounded-json.js';
import { HttpJsonFeed } from '../../src/ingest/http-feed.js';

describe('the HTTP JSON feed adapter', () => {
  const requests: string[] = [];
  let status = 200;
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url!);
      const since = Number(new URL(req.url!, 'http://x').searchParams.get('since') ?? 0);
      res.statusCode = status;
      if (status === 429) res.setHeader('retry-after', '30');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ records: [{ n: since + 1 }, { n: since + 2 }], cursor: String(since + 2) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/odds`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('returns the records with the cursor after them, and asks from the cursor it is given', async () => {
    const feed = new HttpJsonFeed({ url });
    expect(await feed.poll(null, 100)).toEqual({ records: [{ n: 1 }, { n: 2 }], cursor: '2' });
    expect(await feed.poll('2', 100)).toEqual({ records: [{ n: 3 }, { n: 4 }], cursor: '4' });
    expect(requests.slice(-2)).toEqual(['/odds?limit=100', '/odds?since=2&limit=100']);
  });

  it('throws on a failed poll', async () => {
    const feed = new HttpJsonFeed({ url });
    status = 503;
    await expect(feed.poll('2', 100)).rejects.toThrow(/answered 503/);
    status = 200;
  });

  it('waits out a 429 as Retry-After asks, without failing, and keeps to its rate limit', async () => {
    let clock = 0;
    const warnings: string[] = [];
    let counted = 0;
    const feed = new HttpJsonFeed({
      url,
      now: () => clock,
      rateLimit: { perSecond: 1, burst: 1 },
      logger: { warn: (_, message) => warnings.push(message) },
      onRateLimited: () => counted++,
    });
    status = 429;
    expect(await feed.poll('2', 100)).toEqual({ records: [], cursor: '2' });
    status = 200;
    const asked = requests.length;
    clock = 29_999;
    expect(await feed.poll('2', 100)).toEqual({ records: [], cursor: '2' });
    expect(requests.length).toBe(asked);
    clock = 30_000;
    expect(await feed.poll('2', 100)).toEqual({ records: [{ n: 3 }, { n: 4 }], cursor: '4' });
    expect([counted, warnings]).toEqual([1, [`feed ${url} asks us to slow down (429): no request for 30 s; not counted as a feed failure`]]);
    // The rate limit: one a second.
    expect(await feed.poll('4', 100)).toEqual({ records: [], cursor: '4' });
    expect(requests.length).toBe(asked + 1);
    clock += 1_000;
    expect((await feed.poll('4', 100)).records).toEqual([{ n: 5 }, { n: 6 }]);
  });

  describe('given an answer over its size limit', () => {
    const fiftyMegabytes = 50 * 1024 * 1024;
    let written = 0;
    let closed = false;
    let big: http.Server;
    let bigUrl: string;
    beforeAll(async () => {
      big = http.createServer((req, res) => {
        written = 0;
        closed = false;
        res.on('close', () => (closed = true));
        res.setHeader('content-type', 'application/json');
        if (req.url!.startsWith('/declared')) res.setHeader('content-length', fiftyMegabytes);
        void (async () => {
          const chunk = Buffer.alloc(64 * 1024, ' ');
          res.write('{"records":[');
          while (written < fiftyMegabytes && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
          }
          res.end();
        })();
      });
      await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
      bigUrl = `http://127.0.0.1:${(big.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => big.close(resolve)));

    it('refuses a streamed answer unparsed and stops downloading it past the limit', async () => {
      const feed = new HttpJsonFeed({ url: `${bigUrl}/streamed`, maxResponseBytes: 10 * 1024 * 1024 });
      await expect(feed.poll(null, 100)).rejects.toThrow(FeedTooLargeError);
      await expect.poll(() => closed).toBe(true);
      // What the kernel buffered past the limit, not the 50 MB.
      expect(written).toBeLessThan(fiftyMegabytes / 2);
    });

    it('refuses an answer whose content-length is over the limit before reading it', async () => {
      const feed = new HttpJsonFeed({ url: `${bigUrl}/declared`, maxResponseBytes: 10 * 1024 * 1024 });
      await expect(feed.poll(null, 100)).rejects.toThrow(/answered more than 10485760 bytes, the limit; refused unparsed/);
      await expect.poll(() => closed).toBe(true);
      expect(written).toBeLessThan(fiftyMegabytes / 2);
    });
  });
});
