import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

// A second `npm start` on one laptop: it must say what is wrong, not corrupt the first one's database or
// print someone else's error.
describe('a second gateway on the same machine', () => {
  let dir: string;
  let first: TestGateway | undefined;
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => {
    await first?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is refused the embedded database another process holds, with a clear error, and gets it once that one closed', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'oddsgate-lock-'));
    const pgliteDataDir = path.join(dir, 'pglite');
    const holder = await openDatabase({ pgliteDataDir });
    await expect(openDatabase({ pgliteDataDir })).rejects.toThrow(ConfigError);
    await expect(openDatabase({ pgliteDataDir })).rejects.toThrow(/in use by another process.*PGLITE_DATA_DIR or DATABASE_URL/);
    await holder.close();

    const next = await openDatabase({ pgliteDataDir });
    expect(await next.query('select 1 as one')).toEqual([{ one: 1 }]);
    await next.close();
  }, 60_000);

  it('is told its port is in use, and nothing else is printed', async () => {
    first = await startTestGateway({ kind: 'pglite', cache: false });
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const port = Number(new URL(first.gateway.url).port);
    await expect(startTestGateway({ kind: 'pglite', cache: false, config: { port } })).rejects.toThrow(new ConfigError(`PORT ${port} on 127.0.0.1 is in use by another process (another oddsgate?): stop it, or set PORT`));
    expect(printed).not.toHaveBeenCalled();
    // The first still answers, WebSockets included (they now reach graphql-ws through the server's upgrade).
    expect(await first.query('{ events(first: 1) { nodes { id } } }')).toMatchObject({ data: { events: { nodes: [expect.anything()] } } });
  }, 60_000);
});
