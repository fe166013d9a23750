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

/**
 * One child logger per WebSocket connection, bound to an id taken from the
 * upgrade request like an HTTP request's. Keyed by the connection's
 * graphql-ws `extra`, which lives as long as the connection.
 */
export function connectionLoggers(logger: Logger): (extra: { request: { headers: Record<string, string | string[] | undefined> } }) => Logger {
  const loggers = new WeakMap<object, Logger>();
  return (extra) => {
    let log = loggers.get(extra);
    if (!log) loggers.set(extra, (log = logger.child({ connId: requestIdFrom(extra.request.headers['x-request-id']) })));
    return log;
  };
}
