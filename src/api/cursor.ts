import type { LogPlace } from '../domain/change-log.js';
import { badUserInput } from './errors.js';

/** An opaque position in kick-off order: (kickoffAt, id), base64url-encoded. */
export interface EventCursor {
  kickoffAtMs: number;
  id: number;
}

export function encodeCursor(event: EventCursor): string {
  return Buffer.from(`${event.kickoffAtMs}:${event.id}`).toString('base64url');
}

export function decodeCursor(cursor: string, argumentName = 'after'): EventCursor {
  const match = /^(\d{1,15}):(\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badUserInput(argumentName, `is not a cursor this API returned (use pageInfo.endCursor for after, pageInfo.startCursor for before); got ${JSON.stringify(cursor)}`);
  return { kickoffAtMs: Number(match[1]), id: Number(match[2]) };
}

/**
 * A place in the change log, opaque to clients: base64url of `log:<position>`
 * (after the whole position, as `oddsCursor` gives it) or
 * `log:<position>.<index>` (after one change of it, as an update's `cursor`).
 */
export function encodeLogCursor(place: LogPlace): string {
  return Buffer.from(`log:${place.position}${place.index === undefined ? '' : `.${place.index}`}`).toString('base64url');
}

export function decodeLogCursor(cursor: string, argumentName = 'after'): LogPlace {
  const match = /^log:(\d{1,19})(?:\.(\d{1,6}))?$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw badUserInput(argumentName, `is not a cursor this API returned (use OddsUpdate.cursor or Query.oddsCursor); got ${JSON.stringify(cursor)}`);
  return { position: BigInt(match[1]!), index: match[2] === undefined ? undefined : Number(match[2]) };
}
