import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { startNpmScript, type RunningProcess } from '../support/processes.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
/** What a checkout holds before anything is built (git's files), minus tests and benchmarks. */
const sources = ['src', 'prisma', 'scripts', 'schema.graphql', 'codegen.ts', 'prisma.config.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/**
 * Three `npm start` at the same moment from one checkout that was never built: each one's prestart finds
 * the build missing; one builds (generate, compile) while the others wait for its lock, and all three start.
 */
describe('npm start from one unbuilt checkout, three times at once', () => {
  let checkout: string;
  let database: TestDatabase | undefined;
  const starts: RunningProcess[] = [];
  beforeAll(async () => {
    checkout = await mkdtemp(path.join(os.tmpdir(), 'oddsgate-checkout-'));
    for (const entry of sources) {
      // A real checkout has no generated code; the worktree's may be there.
      await cp(path.join(root, entry), path.join(checkout, entry), { recursive: true, filter: (from) => !from.startsWith(path.join(root, 'src/generated')) });
    }
    await symlink(path.join(root, 'node_modules'), path.join(checkout, 'node_modules'), 'dir');
    // The GraphiQL bundle is the slow step and not what this test is about: its stamp matches the copied sources
    // once the checkout's is up to date (a no-op after npm test's build).
    await run(process.execPath, ['scripts/build.mjs', 'graphiql'], { cwd: root });
    await cp(path.join(root, '.build/graphiql'), path.join(checkout, '.build/graphiql'), { recursive: true });
    // On PostgreSQL when there is one (the three migrate one database under its lock), else each on its own PGlite.
    if (postgresUrl) database = await createTestDatabase('postgres', 'empty');
  });
  afterAll(async () => {
    await Promise.all(starts.map((start) => start.stop()));
    await database?.drop();
    if (checkout) await rm(checkout, { recursive: true, force: true });
  });

  it('all start, after one build', async () => {
    const env = { PORT: '0', INGEST: 'off', ...(database ? { DATABASE_URL: database.url! } : { PGLITE_DATA_DIR: 'memory://' }) };
    for (let i = 0; i < 3; i++) starts.push(startNpmScript('start', checkout, env));
    const urls = await Promise.all(starts.map(async (start) => (await start.waitFor(/oddsgate ready: GraphQL .* at (http:\/\/\S+)\/graphql/, 240_000))[1]!));

    const outputs = starts.map((start) => start.output());
    const count = (pattern: RegExp) => outputs.filter((output) => pattern.test(output)).length;
    expect(count(/build: generate -> src\/generated/), outputs.join('\n----\n')).toBe(1);
    expect(count(/build: compile -> dist/)).toBe(1);
    expect(count(/build: graphiql/)).toBe(0);
    expect(count(/build: waiting for the build running in process \d+/)).toBe(2);
    for (const url of urls) {
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ sports { key } }"}' });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    }
  }, 300_000);
});
