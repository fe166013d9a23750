// @ts-check
/**
 * `npm run build`, and the pre-step of `npm start`, `npm run gateway`, `npm run ingest` and `npm run db:*`:
 * makes everything those commands run, in three steps, each with one output directory:
 *
 *   generate   src/generated/     the Prisma client and the resolver types (prisma generate, graphql-codegen)
 *   compile    dist/              src/ compiled to JavaScript with source maps (esbuild, file by file)
 *   graphiql   .build/graphiql/   the GraphiQL page and its assets (esbuild, src/api/graphiql/build.ts)
 *
 * Each output holds a stamp: the SHA-256 of everything it is built from. A step whose stamp matches is
 * skipped, so on an up-to-date checkout this is a few milliseconds of hashing and needs no devDependency.
 * A stale step is built into a staging directory and swapped into place by two renames, under a lock:
 * any number of processes may start at once from one checkout; one builds, the others wait for its lock
 * and then find everything fresh, and none ever runs half a build.
 *
 * A directory without src/ is an installed build (what `npm pack` takes, installed with
 * `npm ci --omit=dev`): nothing is built there, it runs as it is.
 *
 *   node scripts/build.mjs [--force] [generate|compile|graphiql ...]   (default: all three)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const stampName = '.build-stamp';
const lockDir = path.join(root, '.build', 'lock');
/** What every step is built with: the locked package versions and this script. */
const sharedInputs = ['package-lock.json', 'scripts/build.mjs'];

/**
 * @typedef {object} Step
 * @property {string} name
 * @property {string} output       directory, relative to the project
 * @property {string[]} inputs     files and directories it is built from
 * @property {string[]} [exclude]  directories among the inputs that do not count
 * @property {(staging: string) => Promise<void>} build  fills `staging`, an empty directory
 */

/** @type {Step[]} In order: compile reads what generate made. */
const steps = [
  {
    name: 'generate',
    output: 'src/generated',
    inputs: ['prisma/schema.prisma', 'prisma.config.ts', 'schema.graphql', 'codegen.ts'],
    build: generate,
  },
  {
    name: 'compile',
    output: 'dist',
    inputs: ['src', 'tsconfig.json', 'tsconfig.build.json'],
    exclude: ['src/api/graphiql/browser'],
    build: compile,
  },
  {
    name: 'graphiql',
    output: '.build/graphiql',
    inputs: ['src/api/graphiql/browser', 'src/api/graphiql/build.ts', 'src/api/graphiql/paths.ts', 'src/cli/build-graphiql.ts'],
    build: (staging) => run('tsx', ['src/cli/build-graphiql.ts', staging]),
  },
];

/**
 * Prisma client and resolver types, both into `staging` (the Prisma CLI and codegen write where they are told).
 * @param {string} staging
 */
async function generate(staging) {
  const schema = await readFile(path.join(root, 'prisma/schema.prisma'), 'utf8');
  const outputLine = /^(\s*output\s*=\s*)"[^"]*"/m;
  if (!outputLine.test(schema)) throw new Error('prisma/schema.prisma: no `output = "..."` in its generator block');
  // A copy of the schema beside the staging directory, whose client goes into it.
  const stagedSchema = path.join(staging, '..', `schema-${path.basename(staging)}.prisma`);
  await writeFile(stagedSchema, schema.replace(outputLine, `$1"${path.basename(staging)}/prisma"`));
  try {
    // prisma generate needs no schema engine, only a path to some file (see README, "Migrations without the schema engine").
    const engine = process.env.PRISMA_SCHEMA_ENGINE_BINARY || path.join(root, 'prisma/schema.prisma');
    await run('prisma', ['generate', '--schema', stagedSchema], { PRISMA_SCHEMA_ENGINE_BINARY: engine, PRISMA_HIDE_UPDATE_MESSAGE: '1' });
  } finally {
    await rm(stagedSchema, { force: true });
  }
  await run('graphql-codegen', ['--config', 'codegen.ts', '--silent'], { CODEGEN_OUTPUT: path.join(staging, 'graphql.ts') });
}

/**
 * The files of tsconfig.build.json (src/ but its excludes), each compiled to JavaScript on its own by esbuild:
 * isolatedModules and verbatimModuleSyntax make a file's JavaScript independent of other files' types, and
 * `npm test` type-checks (tsc -p .). 0.5 s of CPU where `tsc --noCheck` took 4.8 s.
 * @param {string} staging
 */
async function compile(staging) {
  /** @type {typeof import('esbuild')} */
  const esbuild = await import('esbuild').catch(() => {
    throw new UsageError('build: esbuild is not installed. Building needs the devDependencies: npm install (or npm ci without --omit=dev).');
  });
  // tsconfig.build.json is JSON with comments, none inside a string.
  const config = JSON.parse((await readFile(path.join(root, 'tsconfig.build.json'), 'utf8')).replace(/^\s*\/\/.*$/gm, ''));
  const excluded = /** @type {string[]} */ (config.exclude ?? []).map((entry) => path.join(root, entry));
  const files = (await filesUnder(path.join(root, 'src'), excluded)).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
  // Compiled for dist/, where it will be (source maps name src/ relative to it), and written to staging.
  const dist = path.join(root, 'dist');
  const { outputFiles } = await esbuild.build({
    entryPoints: files,
    write: false,
    outdir: dist,
    outbase: path.join(root, 'src'),
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    sourcemap: true,
    tsconfig: path.join(root, 'tsconfig.build.json'),
    logLevel: 'warning',
  });
  for (const file of outputFiles) {
    const target = path.join(staging, path.relative(dist, file.path));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.contents);
  }
}

async function main() {
  const args = process.argv.slice(2);
  const force = args.includes('--force');
  const names = args.filter((arg) => arg !== '--force');
  const unknown = names.filter((name) => !steps.some((step) => step.name === name));
  if (unknown.length) throw new UsageError(`build: unknown step ${unknown.join(', ')} (steps: ${steps.map((s) => s.name).join(', ')}; flag: --force)`);
  const selected = steps.filter((step) => names.length === 0 || names.includes(step.name));

  if (!existsSync(path.join(root, 'src'))) return checkInstalledBuild();
  if (!force && (await allFresh(selected))) {
    console.log(`build: up to date (${selected.map((step) => step.output).join(', ')})`);
    return;
  }
  const release = await acquireLock();
  try {
    await removeAbandonedStaging();
    for (const step of selected) await buildIfStale(step, force);
  } finally {
    await release();
  }
}

/**
 * True when every step's stamp matches its inputs; checked in order, and a stale step makes the later ones unknown.
 * @param {Step[]} selected
 */
async function allFresh(selected) {
  for (const step of selected) {
    if ((await readStamp(step)) !== (await inputsHash(step))) return false;
  }
  return true;
}

/**
 * @param {Step} step
 * @param {boolean} force
 */
async function buildIfStale(step, force) {
  // Again under the lock: the process that held it before may have just built this.
  const hash = await inputsHash(step);
  if (!force && (await readStamp(step)) === hash) return;
  const started = performance.now();
  const work = path.join(root, '.build', `staging-${process.pid}`);
  const staging = path.join(work, step.name);
  await rm(work, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await step.build(staging);
    await writeFile(path.join(staging, stampName), hash);
    await swapIntoPlace(staging, path.join(root, step.output), path.join(work, `${step.name}-previous`));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  console.log(`build: ${step.name} -> ${step.output} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Two renames: a reader sees the old output, none (and waits for the lock), or the new one; never a mix.
 * @param {string} staging
 * @param {string} output
 * @param {string} previous  where the old output goes, to be deleted with the staging directory
 */
async function swapIntoPlace(staging, output, previous) {
  await mkdir(path.dirname(output), { recursive: true });
  await rename(output, previous).catch((/** @type {NodeJS.ErrnoException} */ error) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(staging, output);
}

/** @param {Step} step */
async function readStamp(step) {
  return readFile(path.join(root, step.output, stampName), 'utf8').catch(() => undefined);
}

/**
 * SHA-256 over each input file's path (relative to the project) and contents, in a fixed order.
 * @param {Step} step
 */
async function inputsHash(step) {
  const hash = createHash('sha256');
  const excluded = (step.exclude ?? []).map((dir) => path.join(root, dir));
  for (const input of [...step.inputs, ...sharedInputs]) {
    for (const file of await filesUnder(path.join(root, input), excluded)) {
      hash.update(path.relative(root, file)).update('\0').update(await readFile(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

/**
 * @param {string} entry
 * @param {string[]} excluded
 * @returns {Promise<string[]>}
 */
async function filesUnder(entry, excluded) {
  if (excluded.includes(entry)) return [];
  const info = await stat(entry).catch(() => undefined);
  if (!info) return [];
  if (!info.isDirectory()) return [entry];
  const names = (await readdir(entry)).sort();
  return (await Promise.all(names.map((name) => filesUnder(path.join(entry, name), excluded)))).flat();
}

/**
 * A directory lock: mkdir is atomic. The owner's pid is written inside, so a lock left by a build that
 * died is taken over. Waiting builders poll it; they are waiting for a build that takes seconds.
 */
async function acquireLock() {
  await mkdir(path.dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  let announced = false;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(path.join(lockDir, 'pid'), String(process.pid));
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') throw error;
    }
    const owner = await lockOwner();
    if (owner === 'dead') {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) console.log(`build: waiting for the build running in process ${owner}`);
    announced = true;
    if (Date.now() > deadline) throw new Error(`build: ${lockDir} still held by process ${owner} after 15 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Staging directories of builds that died midway (`.build/staging-<pid>`); only the lock's holder builds, so none is in use. */
async function removeAbandonedStaging() {
  const names = await readdir(path.join(root, '.build'));
  for (const name of names.filter((n) => n.startsWith('staging-'))) await rm(path.join(root, '.build', name), { recursive: true, force: true });
}

/** The pid holding the lock, or 'dead' when that process is gone (or never wrote its pid, 10 s ago). */
async function lockOwner() {
  const pid = Number(await readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => Number.NaN));
  if (Number.isNaN(pid)) {
    const created = await stat(lockDir).then((info) => info.mtimeMs, () => Date.now());
    return Date.now() - created > 10_000 ? 'dead' : 'unknown';
  }
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'ESRCH' ? 'dead' : pid;
  }
}

/**
 * Runs a devDependency's command from node_modules/.bin, failing with a clear message when it is not installed.
 * @param {string} command
 * @param {string[]} args
 * @param {Record<string, string>} [env]
 * @returns {Promise<void>}
 */
function run(command, args, env = {}) {
  const bin = path.join(root, 'node_modules', '.bin', command);
  if (!existsSync(bin)) {
    return Promise.reject(
      new UsageError(`build: ${command} is not installed. Building needs the devDependencies: npm install (or npm ci without --omit=dev).`),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`build: ${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`))));
  });
}

/** An installed build runs what it was shipped with; it only has to be there. */
function checkInstalledBuild() {
  if (!existsSync(path.join(root, 'dist', 'main.js'))) {
    throw new UsageError('build: no src/ to build from and no dist/main.js to run. Run npm run build in a checkout and ship what npm pack takes.');
  }
  console.log('build: installed build (no src/), nothing to build');
}

class UsageError extends Error {}

main().catch((error) => {
  console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = 1;
});
