// `node --expose-gc --import tsx bench/cache-estimate.ts`: how far the odds cache's byte estimate (what
// CACHE_MAX_BYTES counts, src/read/odds-cache.ts `estimateBytes`) is from the V8 heap its entries hold. A gateway
// in this process warms its cache from a seeded database (ESTIMATE_DATABASE_URL), then each kind of entry is
// dropped in turn and the heap freed (after forced collections) is set against the kind's estimate.
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../src/db/database.js';
import { cacheKinds } from '../src/domain/cache-keys.js';
import { startGateway } from '../src/gateway.js';
import { InProcessOddsBus } from '../src/live/odds-bus.js';
import { silentLogger } from '../src/ops/log.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heapUsed = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  return process.memoryUsage().heapUsed;
};
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const db = await openDatabase({ databaseUrl: process.env.ESTIMATE_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/oddsgate_fastprof', pgliteDataDir: 'unused' });
const gateway = await startGateway({ bus: new InProcessOddsBus(), db, logger: silentLogger(), config: { host: '127.0.0.1', port: 0, cache: true, cacheMaxBytes: 256 << 20 } });
try {
  const sizes = gateway.cache.sizeByKind();
  let estimated = 0;
  let freed = 0;
  // The board keeps its events' records (Event), so dropping them frees little: the ratio that matters is the odds'.
  for (const kind of cacheKinds) {
    const before = await heapUsed();
    const entries = gateway.cache.invalidateKind(kind);
    const kindFreed = before - (await heapUsed());
    estimated += sizes[kind].bytes;
    freed += kindFreed;
    console.log(`${kind}: ${entries} entries, estimate ${mib(sizes[kind].bytes)}, heap freed ${mib(kindFreed)}, estimate / heap ${(sizes[kind].bytes / kindFreed).toFixed(2)}`);
  }
  console.log(`all: estimate ${mib(estimated)}, heap freed ${mib(freed)}, estimate / heap ${(estimated / freed).toFixed(2)}`);
} finally {
  await gateway.close();
  await db.close();
}
