import { ConfigError } from '../config.js';

/** Runs a command-line entry point: a clear one-line error and exit code 1 instead of a stack trace for expected failures. */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const expected = error instanceof ConfigError || error instanceof RangeError;
    console.error(expected ? (error as Error).message : error);
    process.exitCode = 1;
  }
}
