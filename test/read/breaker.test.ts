import { silentLogger } from '../../src/ops/log.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Breaker } from '../../src/read/breaker.js';

describe('the circuit breaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  const down = () => Promise.reject(new Error('connection refused'));
  const up = () => Promise.resolve('ok');
  /** Whether a call at this moment reached the backend (false: the open breaker refused it). */
  const reaches = async (breaker: Breaker, work: () => Promise<unknown>) => {
    let called = false;
    await breaker
      .execute(() => {
        called = true;
        return work();
      })
      .catch(() => {});
    return called;
  };

  it('tries again 1 s after opening, then waits twice as long after each failed trial, up to openMs', async () => {
    const breaker = new Breaker('database', { failures: 2, firstProbeMs: 1_000, openMs: 4_000, logger: silentLogger() });
    await reaches(breaker, down);
    await reaches(breaker, down);
    expect(breaker.state).toBe('open');
    const trials: number[] = [];
    for (let t = 0; t <= 15_000; t += 100) {
      vi.setSystemTime(t);
      if (await reaches(breaker, down)) trials.push(t);
    }
    // Trials after 1 s, then 2 s, then 4 s, 4 s...
    expect(trials).toEqual([1_000, 3_000, 7_000, 11_000, 15_000]);
    vi.setSystemTime(19_000);
    expect(await reaches(breaker, up)).toBe(true);
    expect(breaker.state).toBe('closed');
  });

  it('starts again from the first delay after it closed', async () => {
    const breaker = new Breaker('database', { failures: 1, firstProbeMs: 1_000, openMs: 30_000, logger: silentLogger() });
    await reaches(breaker, down);
    for (const t of [1_000, 3_000, 7_000]) {
      vi.setSystemTime(t);
      await reaches(breaker, down);
    }
    vi.setSystemTime(15_000);
    await reaches(breaker, up);
    expect(breaker.state).toBe('closed');
    await reaches(breaker, down);
    vi.setSystemTime(15_999);
    expect(await reaches(breaker, up)).toBe(false);
    vi.setSystemTime(16_000);
    expect(await reaches(breaker, up)).toBe(true);
  });

  it('leaves errors that are not the backend failing to the caller, without opening', async () => {
    const refused = Object.assign(new Error('numeric field overflow'), { code: '22003' });
    const breaker = new Breaker('database', { failures: 1, isFailure: (e) => (e as { code?: string }).code !== '22003', logger: silentLogger() });
    for (let i = 0; i < 5; i++) await expect(breaker.execute(() => Promise.reject(refused))).rejects.toBe(refused);
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(down)).rejects.toThrow('connection refused');
    expect(breaker.state).toBe('open');
  });

  it('closes as soon as its probe answers, however far the backoff has grown', async () => {
    let backendUp = false;
    let probes = 0;
    const probe = async () => {
      probes++;
      if (!backendUp) throw new Error('connection refused');
    };
    const breaker = new Breaker('database', { failures: 1, firstProbeMs: 1_000, openMs: 30_000, probe, logger: silentLogger() });
    await reaches(breaker, down);
    // Trials fail at 1, 3, 7 and 15 s: the next trial would be 16 s later.
    for (const t of [1_000, 3_000, 7_000, 15_000]) {
      vi.setSystemTime(t);
      await reaches(breaker, down);
    }
    const probesWhileDown = probes;
    expect(probesWhileDown).toBeGreaterThan(0);
    vi.setSystemTime(15_500);
    await reaches(breaker, up);
    expect(probes).toBe(probesWhileDown); // at most one probe per firstProbeMs
    backendUp = true;
    vi.setSystemTime(16_100);
    expect(await reaches(breaker, up)).toBe(false); // this call starts the probe and still fails fast
    await vi.waitUntil(() => breaker.state === 'closed');
    expect(await reaches(breaker, up)).toBe(true);
  });
});
