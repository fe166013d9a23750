import { randomUUID } from 'node:crypto';
import { pino, type DestinationStream, type Logger } from 'pino';

import type { LogLevel } from '../config.js';

export type { Logger };

/**
 * The process's one logger, made in a composition root and passed down.
 * JSON lines on stdout (pipe through `npx pino-pretty` to read them);
 * `destination` is for tests that read what was logged.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return destination ? pino({ level }, destination) : pino({ level });
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Ids a client or proxy may send in `x-request-id`: short, printable, no spaces, so they are safe in logs and headers. */
const saneRequestId = /^[\w.:@/+=-]{1,128}$/;

/** The incoming `x-request-id` when it is sane, else a new UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const incoming = Array.isArray(header) ? header[0] : header;
  return incoming !== undefined && saneRequestId.test(incoming) ? incoming : randomUUID();
}

/** A WebSocket connection's id (taken from its upgrade request like an HTTP request's) and its logger, bound to that id. */
export interface Connection {
  id: string;
  log: Logger;
}

/**
 * One id and child logger per WebSocket connection, keyed by the
 * connection's graphql-ws `extra`, which lives as long as the connection.
 */
export function connections(logger: Logger): (extra: { request: { headers: Record<string, string | string[] | undefined> } }) => Connection {
  const known = new WeakMap<object, Connection>();
  return (extra) => {
    let connection = known.get(extra);
    if (!connection) {
      const id = requestIdFrom(extra.request.headers['x-request-id']);
      known.set(extra, (connection = { id, log: logger.child({ connId: id }) }));
    }
    return connection;
  };
}
