import type http from 'node:http';

/**
 * Stops accepting connections and waits for in-flight requests to finish,
 * at most `timeoutMs`; then cuts what is left. Keep-alive connections must
 * not outlive the drain: requests still arriving on them are answered with
 * `connection: close`, and connections that fall idle are closed as they do
 * (node:http closes only those idle at the moment `close()` is called).
 */
export async function drainHttpServer(server: http.Server, timeoutMs: number): Promise<{ drained: boolean }> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const lastRequestOnConnection = (_req: http.IncomingMessage, res: http.ServerResponse) => res.setHeader('connection', 'close');
  server.prependListener('request', lastRequestOnConnection); // before the handler can send headers
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    closed.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  clearInterval(sweeper);
  server.off('request', lastRequestOnConnection);
  if (!drained) {
    server.closeAllConnections();
    await closed;
  }
  return { drained };
}

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (1 if
 * `stop` failed). If `stop` has not finished after `timeoutMs`, exits 1
 * anyway: an orchestrator's kill must never be the way this process ends.
 */
export function stopOnSignals(stop: (signal: string) => Promise<void>, options: { timeoutMs: number; log: (message: string) => void }): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      options.log(`${signal}: shutdown took longer than ${options.timeoutMs} ms, exiting`);
      process.exit(1);
    }, options.timeoutMs).unref();
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        options.log(`${signal}: shutdown failed: ${(error as Error).stack ?? String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
