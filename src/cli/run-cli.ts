import { ConfigError } from '../config.js';
import type { Logger } from '../ops/log.js';

/** Runs a command-line entry point: a clear one-line error and exit code 1 instead of a stack trace for expected failures. */
export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    // An option parseArgs does not know, or one without its value: the user's typo, not a bug.
    const badArgument = String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_');
    const expected = error instanceof ConfigError || error instanceof RangeError || badArgument;
    console.error(expected ? `${(error as Error).message}${badArgument ? ' (--help lists the options)' : ''}` : error);
    process.exitCode = 1;
  }
}

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (1 if
 * `stop` failed). If `stop` has not finished after `timeoutMs`, exits 1
 * anyway: an orchestrator's kill must never be the way this process ends.
 */
export function stopOnSignals(stop: (signal: string) => Promise<void>, options: { timeoutMs: number; logger: Logger }): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      options.logger.error({ signal, timeoutMs: options.timeoutMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, options.timeoutMs).unref();
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        options.logger.error({ signal, err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
