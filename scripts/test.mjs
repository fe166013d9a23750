// @ts-check
/**
 * `npm test`: the build, then the checks and the tests side by side:
 *
 *   node scripts/build.mjs                                      first: everything below reads src/generated/
 *   tsc -p . | tsc -p src/api/graphiql/browser | eslint        each on one core, their output printed when each ends
 *   vitest run [args]                                           its own output as it goes
 *
 * One after the other they took 30 s of wall time on one core of a 2-core box before vitest began, while the
 * tests spend much of their time waiting on PostgreSQL, sockets and processes. The checks run at a lower
 * priority (nice 10), so they take the CPU the tests leave and do not slow them. Arguments go to vitest
 * (`npm test -- test/ingest`). Exits non-zero when any of them fails, after all have ended.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (/** @type {string} */ name) => path.join(root, 'node_modules', '.bin', name);

/** @typedef {{ name: string, code: number | null, seconds: number, output: string }} Result */

/**
 * @param {string} name
 * @param {string} command  a program, or with no `args` a shell command line (a package.json script)
 * @param {string[]} args
 * @param {{ buffered: boolean, nice?: number }} options  buffered: print the output when it ends, not as it comes
 * @returns {Promise<Result>}
 */
function run(name, command, args, { buffered, nice = 0 }) {
  const started = performance.now();
  const env = { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` };
  const child = spawn(command, args, { cwd: root, env, shell: args.length === 0, stdio: buffered ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  if (nice && child.pid) os.setPriority(child.pid, Math.min(19, os.getPriority() + nice));
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ name, code: 1, seconds: 0, output: String(error) }));
    child.once('close', (code, signal) => {
      const result = { name, code: signal ? 1 : code, seconds: (performance.now() - started) / 1000, output };
      if (buffered) report(result);
      resolve(result);
    });
  });
}

/** @param {Result} result */
function report(result) {
  const status = result.code === 0 ? 'ok' : `FAILED (exit ${result.code})`;
  process.stdout.write(`\n${result.name}: ${status} in ${result.seconds.toFixed(1)} s\n${result.output.trimEnd()}${result.output.trim() ? '\n' : ''}`);
}

async function main() {
  const build = await run('build', process.execPath, ['scripts/build.mjs'], { buffered: false });
  if (build.code !== 0) return 1;
  const { scripts } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
  const checks = [
    run('tsc -p .', bin('tsc'), ['-p', '.'], { buffered: true, nice: 10 }),
    run('tsc -p src/api/graphiql/browser', bin('tsc'), ['-p', 'src/api/graphiql/browser'], { buffered: true, nice: 10 }),
    run('npm run lint', scripts.lint, [], { buffered: true, nice: 10 }),
  ];
  const results = await Promise.all([...checks, run('vitest', bin('vitest'), ['run', ...process.argv.slice(2)], { buffered: false })]);
  const failed = results.filter((result) => result.code !== 0);
  console.log(`\nnpm test: ${results.map((r) => `${r.name} ${r.code === 0 ? 'ok' : 'FAILED'} (${r.seconds.toFixed(0)} s)`).join(', ')}`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
