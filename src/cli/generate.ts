// `npm run generate`: the Prisma client, the resolver types and the GraphiQL bundle, each skipped
// when what it is made from has not changed since it was last made (npm test, npm start and
// npm run gateway run this first, so an unchanged checkout pays nothing).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildGraphiql } from '../api/graphiql/build.js';
import { runCli } from './run-cli.js';

const projectDir = path.resolve(import.meta.dirname, '../..');
const stampsDir = path.join(projectDir, '.build/stamps');

interface Generator {
  name: string;
  /** What the output is made from, besides package-lock.json (the generators' versions). */
  inputs: string[];
  /** A file the generator writes: when it is missing, the generator runs whatever the stamp says. */
  output: string;
  command: string[];
  env?: Record<string, string>;
}

const generators: Generator[] = [
  {
    name: 'prisma-client',
    inputs: ['prisma/schema.prisma', 'prisma.config.ts'],
    output: 'src/generated/prisma/client.ts',
    command: ['prisma', 'generate'],
    // `prisma generate` needs no schema engine; pointing at a file that exists stops it from fetching one.
    env: { PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? 'prisma/schema.prisma' },
  },
  {
    name: 'graphql-types',
    inputs: ['schema.graphql', 'codegen.ts'],
    output: 'src/generated/graphql.ts',
    command: ['graphql-codegen', '--config', 'codegen.ts', '--silent'],
  },
];

await runCli(async () => {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--force');
  if (unknown.length) throw new RangeError(`generate: unknown argument ${unknown.join(' ')} (only --force)`);
  const force = args.includes('--force');
  for (const generator of generators) await generateIfChanged(generator, force);
  const graphiql = await buildGraphiql({ force });
  if (!graphiql.skipped) console.log(`GraphiQL bundled in ${(graphiql.durationMs / 1000).toFixed(1)} s into ${graphiql.outDir}`);
});

async function generateIfChanged(generator: Generator, force: boolean): Promise<void> {
  const stampFile = path.join(stampsDir, generator.name);
  const stamp = await inputsHash(generator.inputs);
  const previous = await readFile(stampFile, 'utf8').catch(() => undefined);
  const outputExists = await access(path.join(projectDir, generator.output)).then(
    () => true,
    () => false,
  );
  if (!force && previous === stamp && outputExists) return;
  await run(generator);
  await mkdir(stampsDir, { recursive: true });
  await writeFile(stampFile, stamp);
}

async function inputsHash(inputs: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...inputs, 'package-lock.json']) hash.update(file).update(await readFile(path.join(projectDir, file)));
  return hash.digest('hex');
}

function run({ name, command: [bin, ...args], env }: Generator): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(projectDir, 'node_modules/.bin', bin!), args, {
      cwd: projectDir,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`generate: ${name} (${bin} ${args.join(' ')}) failed with ${signal ?? `exit code ${code}`}`)),
    );
  });
}
