import type { WebSocket, WebSocketServer } from 'ws';

/** Slices a round of pings is spread over: one timer turn pings a slice of the sockets. */
const slicesPerRound = 24;

export interface Heartbeat {
  stop(): void;
}

/**
 * Keep-alive for every WebSocket of `server` on one timer: each open socket
 * is pinged about once per `intervalMs`, the sockets of a round split evenly
 * over its slices, and one that has sent no pong in the `intervalMs` since a
 * ping is terminated at its next turn (its turns are at most two intervals
 * apart), so a client or a path that died without a close is gone at the
 * latest three intervals after its last ping. graphql-ws's own keep-alive, a timer
 * per socket, pings the sockets that connected together (after a deploy, a
 * network blip, a bench) together: with 19,000 sockets open those waves held
 * the event loop for tens of milliseconds (bench/fanout.ts's gateway profile).
 */
export function startHeartbeat(server: WebSocketServer, intervalMs: number): Heartbeat {
  /** When each socket was pinged and has not answered since; absent: answered (or never pinged). */
  const pingedAt = new WeakMap<WebSocket, number>();
  server.on('connection', (socket: WebSocket) => socket.on('pong', () => pingedAt.delete(socket)));
  let round: WebSocket[] = [];
  let slice = 0;
  const timer = setInterval(() => {
    // Sockets that connect during a round join the next one.
    if (slice === 0) round = [...server.clients];
    const from = Math.floor((round.length * slice) / slicesPerRound);
    const to = Math.floor((round.length * (slice + 1)) / slicesPerRound);
    const at = performance.now();
    for (const socket of round.slice(from, to)) {
      if (socket.readyState !== socket.OPEN) continue;
      const waiting = pingedAt.get(socket);
      // A socket's place in the round moves as others come and go: its ping may be younger than an interval.
      if (waiting !== undefined) {
        if (at - waiting >= intervalMs) socket.terminate();
        continue;
      }
      pingedAt.set(socket, at);
      socket.ping();
    }
    slice = (slice + 1) % slicesPerRound;
  }, intervalMs / slicesPerRound);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
