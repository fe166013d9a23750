// Preloaded into benchmarked gateways (node --expose-gc --import), plain JavaScript so it loads into the built
// gateway (dist/main.js, what `npm start` runs) as well as into one run through tsx. Answers IPC requests:
// - "memory": collects garbage twice, waits for the resident set to settle (the allocator hands pages back
//   after the collection, not during it) and replies with process.memoryUsage(), so the harness reads live
//   heap and the resident set it leaves, rather than whatever the last collection left behind;
// - "profile-start" / "profile-stop": V8's CPU profiler (what --cpu-prof runs) over
//   exactly the load window, written as a .cpuprofile to the path the harness names.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** @type {(() => void) | undefined} */
const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;
/** @type {Session | undefined} */
let session;

// Settled: the resident set moved less than 1 MiB over the last second (readings every 200 ms); at most 15 s.
const settleStepMs = 200;
const settleReadings = 5;
const settleMaxMs = 15_000;

async function settledUsage() {
  const readings = [process.memoryUsage.rss()];
  for (let waited = 0; waited < settleMaxMs; waited += settleStepMs) {
    await sleep(settleStepMs);
    readings.push(process.memoryUsage.rss());
    const last = readings.slice(-settleReadings - 1);
    if (last.length > settleReadings && Math.max(...last) - Math.min(...last) < 1024 * 1024) break;
  }
  return process.memoryUsage();
}

/** @param {{ type?: string; file?: string }} message */
async function answer(message) {
  switch (message.type) {
    case 'memory':
      if (!gc) throw new Error('the probe needs node --expose-gc');
      gc();
      gc();
      return { type: 'memory', usage: await settledUsage() };
    case 'profile-start':
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      return { type: 'profile-started' };
    case 'profile-stop': {
      if (!session || !message.file) throw new Error('profile-stop needs a running profile and a file');
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(message.file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      return { type: 'profile-stopped' };
    }
    default:
      return undefined;
  }
}

if (process.send) {
  const send = process.send.bind(process);
  process.on('message', (/** @type {{ type?: string; file?: string }} */ message) => {
    answer(message).then(
      (reply) => reply && send(reply),
      (/** @type {unknown} */ error) => send({ type: 'error', error: String(error) }),
    );
  });
  // The channel must not keep a gateway alive after SIGTERM.
  process.channel?.unref();
}
