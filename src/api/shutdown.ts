import type http from 'node:http';
import { isTaskCancelledError, timeout, TimeoutStrategy } from 'cockatiel';

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
  const drained = await timeout(timeoutMs, TimeoutStrategy.Aggressive)
    .execute(() => closed)
    .then(
      () => true,
      (error: unknown) => {
        if (isTaskCancelledError(error)) return false;
        throw error;
      },
    );
  clearInterval(sweeper);
  server.off('request', lastRequestOnConnection);
  if (!drained) {
    server.closeAllConnections();
    await closed;
  }
  return { drained };
}
