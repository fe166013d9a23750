import net from 'node:net';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { buildTemplates } from './templates.js';

/**
 * Tests that need PostgreSQL or Redis run when TEST_DATABASE_URL /
 * TEST_REDIS_URL are set. In CI they must run, so a missing variable or an
 * unreachable service fails the whole run here instead of skipping quietly.
 * Then the database templates are built once for the whole run, and removed
 * when it ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const databaseUrl = process.env.TEST_DATABASE_URL || undefined;
  await checkServices(databaseUrl, process.env.TEST_REDIS_URL || undefined);
  const { templates, remove } = await buildTemplates(databaseUrl);
  project.provide('templates', templates);
  return remove;
}

async function checkServices(databaseUrl: string | undefined, redisUrl: string | undefined): Promise<void> {
  if (process.env.CI) {
    const missing = [!databaseUrl && 'TEST_DATABASE_URL', !redisUrl && 'TEST_REDIS_URL'].filter(Boolean);
    if (missing.length) throw new Error(`CI requires the service tests: set ${missing.join(' and ')}`);
  }
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } catch (error) {
      throw new Error(`TEST_DATABASE_URL is set but PostgreSQL is unreachable: ${(error as Error).message}`);
    } finally {
      await client.end().catch(() => {});
    }
  }
  if (redisUrl) await pingRedis(new URL(redisUrl));
}

function pingRedis(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 6379), timeout: 5_000 });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(`TEST_REDIS_URL is set but Redis is unreachable: ${reason}`));
    };
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      socket.end();
      if (data.toString().startsWith('+PONG')) resolve();
      else fail(`answered ${JSON.stringify(data.toString().trim())}`);
    });
    socket.on('timeout', () => fail('timed out'));
    socket.on('error', (error) => fail(error.message));
  });
}
