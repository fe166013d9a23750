import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from '../../src/ingest/rate-limited-log.js';

describe('the rate-limited log', () => {
  it('writes at most maxLines per interval, then says how many it suppressed', () => {
    const lines: string[] = [];
    let clock = 0;
    const log = new RateLimitedLog({ log: (m) => lines.push(m), maxLines: 3, intervalMs: 10_000, now: () => clock });
    for (let i = 0; i < 100_000; i++) log.write(`rejected ${i}`);
    expect(lines).toEqual(['rejected 0', 'rejected 1', 'rejected 2']);
    clock = 9_999;
    log.flush();
    expect(lines).toHaveLength(3);
    clock = 10_000;
    log.flush();
    expect(lines.at(-1)).toBe('suppressed 99997 lines in the last 10 s');
    log.write('rejected again');
    expect(lines.at(-1)).toBe('rejected again');
  });

  it('writes no summary for an interval in which nothing was suppressed', () => {
    const lines: string[] = [];
    let clock = 0;
    const log = new RateLimitedLog({ log: (m) => lines.push(m), maxLines: 3, now: () => clock });
    log.write('one');
    clock = 60_000;
    log.write('two');
    expect(lines).toEqual(['one', 'two']);
  });
});
