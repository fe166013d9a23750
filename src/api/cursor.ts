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
