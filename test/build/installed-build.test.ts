import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/databases.js';
import { startNpmScript, type RunningProcess } from '../support/processes.js';
import { installProductionDependencies } from '../support/production-install.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

/**
 * What a deployment does with a build: take what `npm pack` packs (package.json's `files`: dist/, the
 * GraphiQL bundle, schema.graphql, the migrations), add the lockfile, install without devDependencies,
 * and `npm start`. It must serve GraphQL without src/ and without the devDependencies.
 *
 * The install is what `npm ci --omit=dev` puts in node_modules (the lockfile's packages not marked dev),
 * hard-linked from the checkout's install rather than unpacked by npm: npm's own unpacking is not what
 * this test is about, and cost 18 s of CPU (test/support/production-install.ts).
 */
describe('npm ci --omit=dev && npm start on what the build packs', () => {
  let work: string;
  let installed: string;
  let database: TestDatabase | undefined;
  let gateway: RunningProcess | undefined;
  beforeAll(async () => {
    // A no-op when the checkout is built (npm test builds first).
    await run(process.execPath, ['scripts/build.mjs'], { cwd: root });
    work = await mkdtemp(path.join(os.tmpdir(), 'oddsgate-installed-'));
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root });
    await run('tar', ['-xzf', path.join(work, stdout.trim()), '-C', work]);
    installed = path.join(work, 'package');
    await copyFile(path.join(root, 'package-lock.json'), path.join(installed, 'package-lock.json'));
    await installProductionDependencies(root, installed);
    if (postgresUrl) database = await createTestDatabase('postgres', 'empty');
  }, 240_000);
  afterAll(async () => {
    await gateway?.stop();
    await database?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('has no source and none of the build tools', () => {
    // (TypeScript and the Prisma CLI do come along: @prisma/client names them as optional peers; see README, "Deploying".)
    for (const absent of ['src', 'node_modules/tsx', 'node_modules/esbuild', 'node_modules/@graphql-codegen/cli', 'node_modules/vitest', 'node_modules/eslint']) {
      expect(existsSync(path.join(installed, absent)), absent).toBe(false);
    }
    for (const present of ['dist/main.js', '.build/graphiql/index.html', 'schema.graphql', 'prisma/migrations', 'node_modules/@prisma/client']) {
      expect(existsSync(path.join(installed, present)), present).toBe(true);
    }
  });

  it('starts, migrates and serves GraphQL, GraphiQL and metrics', async () => {
    const env = { PORT: '0', INGEST: 'off', NODE_ENV: 'production', ...(database ? { DATABASE_URL: database.url! } : { PGLITE_DATA_DIR: 'memory://' }) };
    gateway = startNpmScript('start', installed, env);
    const [, url] = await gateway.waitFor(/oddsgate ready: GraphQL .* at (http:\/\/\S+)\/graphql/, 180_000);
    expect(gateway.output()).toContain('build: installed build (no src/), nothing to build');

    const answer = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ sports { key } }"}' });
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { data?: { sports: unknown[] } }).data?.sports).toEqual(expect.any(Array));
    // Production defaults: closed to introspection.
    const introspection = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __schema { queryType { name } } }"}' });
    expect(introspection.status).toBe(400);
    expect((await fetch(`${url}/graphiql`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('oddsgate_http_connections');
  }, 200_000);
});
