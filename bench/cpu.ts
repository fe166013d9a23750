// `npx tsx bench/cpu.ts [scenario...]`: CPU time per request of a gateway in its own process, for a fixed
// number of requests (user + system time from /proc, so other load on the machine does not count), and
// optionally a CPU profile. Environment: CPU_DATABASE_URL (a seeded database, kept), CPU_REQUESTS
// (default 400), CPU_PROFILE_DIR (write a .cpuprofile per scenario there), CPU_ENV (extra gateway
// settings, `A=1,B=2`).
import http from 'node:http';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { historyQuery, hotBoardBody } from './queries.js';
import { cpuSeconds, startGateway, type GatewayProcess } from './lib/processes.js';
import { topSelfTimes, type CpuProfile } from './lib/profile.js';
import { boardVariants, eventDetailBodies, uncached } from './lib/variants.js';

const databaseUrl = process.env.CPU_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/oddsgate_fastprof';
const requests = Number(process.env.CPU_REQUESTS ?? 400);
const profileDir = process.env.CPU_PROFILE_DIR;
const extraEnv = Object.fromEntries((process.env.CPU_ENV ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function post(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/graphql`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200 || !text.startsWith('{"data":') || text.includes('"errors":')) reject(new Error(`bad answer ${response.statusCode}: ${text.slice(0, 300)}`));
        else resolve(text);
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Sends bodies(i) for i in [0, n), 8 at a time. */
async function drive(url: string, n: number, body: (i: number) => string): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < n) await post(url, body(next++));
  }));
}

async function measure(gateway: GatewayProcess, name: string, body: (i: number) => string, warm: number): Promise<void> {
  await drive(gateway.url, warm, body);
  const run = () => drive(gateway.url, requests, (i) => body(warm + i));
  const before = await cpuSeconds(gateway.child.pid);
  const file = profileDir && path.join(profileDir, `${name}.cpuprofile`);
  if (file) await gateway.profile(file, run);
  else await run();
  const cpuMs = ((await cpuSeconds(gateway.child.pid)) - before) * 1000;
  const { responses } = await gateway.health();
  console.log(`${name}: ${(cpuMs / requests).toFixed(2)} ms CPU per request (${requests} requests); response cache so far: ${JSON.stringify(responses)}`);
  if (file) {
    const top = topSelfTimes(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, 25);
    for (const t of top) console.log(`   ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}`);
  }
}

const scenarios = process.argv.slice(2);
const wanted = (name: string) => scenarios.length === 0 || scenarios.includes(name);
const gateway = await startGateway({ DATABASE_URL: databaseUrl, INGEST: 'off', CACHE: 'on', ...extraEnv });
try {
  const variants = await boardVariants((b) => post(gateway.url, b), 240);
  const boardIds = (JSON.parse(await post(gateway.url, JSON.stringify({ query: '{ events(first: 200) { nodes { id } } }' }))) as { data: { events: { nodes: Array<{ id: string }> } } }).data.events.nodes.map((n) => n.id);
  const details = eventDetailBodies(boardIds);
  if (wanted('hot')) await measure(gateway, 'hot', () => hotBoardBody, 200);
  if (wanted('variants')) await measure(gateway, 'variants', (i) => variants[i % variants.length]!, 480);
  if (wanted('cold')) await measure(gateway, 'cold', (i) => uncached(variants[i % variants.length]!, i), 40);
  if (wanted('detail')) await measure(gateway, 'detail', (i) => details[i % details.length]!, 200);
  if (wanted('detail-cold')) await measure(gateway, 'detail-cold', (i) => uncached(details[i % details.length]!, i), 40);
  // bench/storage.ts's history read: with CPU_ENV=CACHE=off, the database path.
  if (wanted('history')) await measure(gateway, 'history', (i) => uncached(JSON.stringify({ query: historyQuery, variables: { id: boardIds[i % boardIds.length] } }), i), 40);
} finally {
  await gateway.stop();
  agent.destroy();
}
