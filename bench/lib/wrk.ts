import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  connections: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors, timeouts, non-2xx answers and bodies that are not a clean GraphQL answer. */
  errors: number;
}

export interface WrkOptions {
  url: string;
  connections: number;
  durationS: number;
  /** JSON POST bodies, sent in turn (each connection cycles through all of them from its own offset). */
  bodies: readonly string[];
  /** Replaced in each body by a number unique to the request: every request differs (a cold response cache). */
  nonce?: string;
  /**
   * How answers are checked: 'body' (default), each one's status and body in wrk's Lua; 'status', only its
   * status, for large answers whose check would make wrk the bottleneck (handing each body to Lua and
   * scanning it cost more than the server's work on a 600 KB board): check the bytes separately.
   */
  check?: 'body' | 'status';
}

// Bodies come from a file, one per line. Every response body is checked as bench/lib/load.ts does; the
// counters live in each thread's Lua state and are read back in `done`.
const script = (bodiesFile: string, nonce: string | undefined, checkBodies: boolean) => `
local bodies = {}
for line in io.lines(${JSON.stringify(bodiesFile)}) do bodies[#bodies + 1] = line end
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  threads[#threads + 1] = thread
end
function init(args)
  -- Unique to this run: nonces never repeat across runs (a repeat would be a second sight, stored, then hit).
  run = ${JSON.stringify(String(Date.now()))}
  bad = 0
  i = id * 7919
  sent = 0
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/json"
end
function request()
  i = i + 1
  sent = sent + 1
  local body = bodies[(i % #bodies) + 1]
  ${nonce ? `body = string.gsub(body, ${JSON.stringify(nonce)}, run .. "-" .. id .. "-" .. sent, 1)` : ''}
  return wrk.format(nil, nil, nil, body)
end
${checkBodies ? `function response(status, headers, body)
  if status ~= 200 or string.sub(body, 1, 8) ~= '{"data":' or string.find(body, '"errors":', 1, true) then bad = bad + 1 end
end` : '-- No response(): wrk then neither collects bodies nor calls Lua per answer; non-2xx are its status errors.'}
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("RESULT %d %d %f %f %d\\n", summary.requests, total, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout${checkBodies ? '' : ' + summary.errors.status'}))
end
`;

/** Runs wrk (2 threads: it does not saturate a core first, as autocannon did) and checks every answer. */
export async function runWrk({ url, connections, durationS, bodies, nonce, check = 'body' }: WrkOptions): Promise<WrkResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oddsgate-wrk-'));
  try {
    const bodiesFile = path.join(dir, 'bodies.txt');
    const scriptFile = path.join(dir, 'script.lua');
    await writeFile(bodiesFile, bodies.map((b) => b.replaceAll('\n', ' ')).join('\n') + '\n');
    await writeFile(scriptFile, script(bodiesFile, nonce, check === 'body'));
    // Two threads, or one for a single connection (wrk needs a connection per thread).
    const { stdout } = await run('wrk', ['-t', String(Math.min(2, connections)), '-c', String(connections), '-d', `${durationS}s`, '--timeout', '10s', '-s', scriptFile, url], {
      maxBuffer: 1024 * 1024,
    });
    const match = /RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)/.exec(stdout);
    if (!match) throw new Error(`wrk printed no result:\n${stdout}`);
    const [, requests, bad, p50Us, p99Us, socketErrors] = match.map(Number) as [number, number, number, number, number, number];
    return { connections, requests, reqPerSec: requests / durationS, p50Ms: p50Us / 1000, p99Ms: p99Us / 1000, errors: bad + socketErrors };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
