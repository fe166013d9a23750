import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../config.js';

/**
 * Listens on `port` (0 = any free one) and `host`; resolves to the base URL, e.g. `http://127.0.0.1:4000`.
 * A port taken by another process is the configuration's problem: a `ConfigError` saying which.
 */
export async function listen(server: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new ConfigError(`PORT ${port} on ${host} is in use by another process (another oddsgate?): stop it, or set PORT`) : error);
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}
