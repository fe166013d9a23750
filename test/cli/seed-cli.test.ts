import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { startProcess } from '../support/processes.js';

/** Runs `npm run db:seed`'s entry point with `args` and no database (nothing here may reach one); its exit code and output. */
async function seed(...args: string[]): Promise<{ code: number | null; output: string }> {
  // A DATABASE_URL nobody listens on: had it tried to seed, it would fail on the connection instead.
  const process = startProcess('src/cli/seed.ts', { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }, args);
  const [code] = (await once(process.child, 'exit')) as [number | null];
  return { code, output: process.output() };
}

describe('npm run db:seed on the command line', () => {
  it('lists its options with --help, and seeds nothing', async () => {
    const { code, output } = await seed('--help');
    expect(code).toBe(0);
    expect(output).toMatch(/^Usage: npm run db:seed -- /);
    for (const option of ['--events', '--bookmakers', '--seed', '--history-days']) expect(output).toContain(option);
  });

  it('refuses an option it does not know in one line that names it and points to --help, with no stack trace', async () => {
    const { code, output } = await seed('--event', '10');
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toContain("'--event'");
    expect(output).toContain('--help lists the options');
  });
});
