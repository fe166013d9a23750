import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
