import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `port` (0 = any free one) and `host`; resolves to the base URL, e.g. `http://127.0.0.1:4000`. */
export async function listen(server: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}
