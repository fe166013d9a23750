/**
 * PostgreSQL's SQLSTATE of a failed statement, however it reached us:
 * Prisma's driver adapters put it in `meta.driverAdapterError.cause.originalCode`,
 * `pg` on the error itself.
 */
export function sqlState(error: unknown): string | undefined {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null;
  const fromAdapter = e?.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof fromAdapter === 'string') return fromAdapter;
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
}

/**
 * Whether the database refused the data rather than failed to answer:
 * class 22 (data exception: a number out of range, a string too long) or
 * 23 (integrity constraint violation). Only such a failure is worth
 * splitting a batch over; any other (connection lost, a trigger raising)
 * says nothing about which record is at fault.
 */
export function isDataError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/** A short reason for a log line or a dead letter: `SQLSTATE 22003: numeric field overflow`. */
export function describeSqlError(error: unknown): string {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalMessage?: unknown } } } }).meta?.driverAdapterError?.cause;
  const message = typeof cause?.originalMessage === 'string' ? cause.originalMessage : (error as Error).message;
  const state = sqlState(error);
  return state ? `SQLSTATE ${state}: ${message}` : message;
}
