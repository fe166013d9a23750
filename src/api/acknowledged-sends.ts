import type { WebSocket } from 'ws';

type Callback = (error?: Error) => void;

/**
 * Makes a socket's sends complete only once the client has read all but
 * `windowBytes` of what was sent (`WS_IN_FLIGHT_BYTES`, default 64 KiB: a
 * hundred-odd updates of the README's trader selection). A send's callback normally fires when its
 * bytes are in the kernel's buffers, and on loopback or a fast link those
 * hold megabytes (tcp_rmem up to 32 MB here): a subscriber whose client
 * reads slower than updates come would look as if it kept up, while what
 * it receives grows seconds old in buffers nobody can conflate. Once more
 * than half the window is unconfirmed, a ping carries the bytes sent so far;
 * the pong (which every client sends, in order, once it has read what came
 * before: RFC 6455 5.5.3) says how far the client read, and the next ping
 * goes only then: one ping at a time, as the `ws` client (Node.js clients
 * of graphql-ws among them) ends a connection that sends it more than 60
 * pings it has not answered yet (`maxPendingAutoPongs`), which a ping after
 * every message of a replayed burst did. graphql-ws asks for a
 * subscription's next update only once its previous send completed, so a
 * slow client's updates wait in its conflating queue (or on the shared
 * tape) instead, where a newer price replaces an older one.
 *
 * Call before graphql-ws sees the socket, and before any wrapper that sends
 * one message in several frames (src/api/shared-payload.ts): a message ends
 * at its final frame.
 */
export function acknowledgedSends(socket: WebSocket, windowBytes: number): void {
  const send = socket.send.bind(socket) as (data: unknown, options: unknown, callback?: Callback) => void;
  let sent = 0;
  let read = 0;
  /** What was sent up to the ping the client has not answered yet; 0: none outstanding. */
  let asked = 0;
  /** Completed sends waiting for the client to read enough, oldest first, with the bytes sent up to each. */
  const held: Array<{ sentUpTo: number; callback: Callback }> = [];
  const release = () => {
    while (held.length > 0 && (socket.readyState !== socket.OPEN || held[0]!.sentUpTo - read <= windowBytes)) held.shift()!.callback();
  };
  const ask = () => {
    if (asked !== 0 || sent - read <= windowBytes / 2 || socket.readyState !== socket.OPEN) return;
    asked = sent;
    socket.ping(String(sent));
  };
  socket.on('pong', (data: Buffer) => {
    const confirmed = Number(data.toString());
    // The heartbeat's pings (src/api/heartbeat.ts) carry nothing.
    if (Number.isFinite(confirmed) && confirmed > 0) {
      if (confirmed > read && confirmed <= sent) read = confirmed;
      if (confirmed >= asked) asked = 0;
    }
    release();
    ask();
  });
  socket.on('close', release);
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    const options = (typeof rest[0] === 'object' ? rest[0] : undefined) as { fin?: boolean } | undefined;
    const callback = rest.find((arg): arg is Callback => typeof arg === 'function');
    sent += typeof data === 'string' ? data.length : (data as Buffer).length;
    const last = options?.fin !== false;
    if (!last || !callback) return send(data, options ?? {}, callback);
    const sentUpTo = sent;
    send(data, options ?? {}, (error?: Error) => {
      if (error || sentUpTo - read <= windowBytes) return callback(error);
      held.push({ sentUpTo, callback });
    });
    ask();
  }) as WebSocket['send'];
}
