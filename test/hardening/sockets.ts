import WebSocket from 'ws';

/** A raw graphql-transport-ws socket, for sending what a well-behaved client never would. */
export interface RawSocket {
  socket: WebSocket;
  /** Messages received so far, parsed. */
  received: Array<{ type: string; id?: string; payload?: unknown }>;
  send(message: unknown): void;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first received message of this type (already received or still to come). */
  message(type: string): Promise<{ type: string; id?: string; payload?: unknown }>;
}

export async function openRawSocket(httpUrl: string): Promise<RawSocket> {
  const socket = new WebSocket(`${httpUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const received: RawSocket['received'] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    received.push(JSON.parse(String(data)) as RawSocket['received'][number]);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    received,
    closed,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    async message(type) {
      for (;;) {
        const found = received.find((m) => m.type === type);
        if (found) return found;
        if (socket.readyState === WebSocket.CLOSED) throw new Error(`socket closed before a ${type} message arrived`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** A raw socket past `connection_init` / `connection_ack`. */
export async function openAcknowledgedSocket(httpUrl: string, payload?: Record<string, unknown>): Promise<RawSocket> {
  const raw = await openRawSocket(httpUrl);
  raw.send({ type: 'connection_init', ...(payload ? { payload } : {}) });
  await raw.message('connection_ack');
  return raw;
}

export const oddsSubscription = (id: string) => ({
  id,
  type: 'subscribe',
  payload: { query: 'subscription { oddsUpdated { event { id } snapshot { bookmaker { key } } } }' },
});
