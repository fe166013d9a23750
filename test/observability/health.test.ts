import { describe, expect, it } from 'vitest';
import { Health } from '../../src/ops/health.js';

describe('health', () => {
  it('is ready when no part says otherwise, and reports every part', async () => {
    const health = new Health();
    health.addPart('database', () => ({ status: 'up', ready: true }));
    health.addPart('redis', () => ({ status: 'not configured' }));
    expect(await health.report()).toEqual({
      httpStatus: 200,
      body: { status: 'ready', notReady: [], parts: { database: { status: 'up', ready: true }, redis: { status: 'not configured' } } },
    });
  });

  it('turns 503 and names the parts that cannot serve, including one that throws', async () => {
    const health = new Health();
    health.addPart('database', () => ({ status: 'down', ready: false }));
    health.addPart('breaker', async () => {
      throw new Error('breaker state unknown');
    });
    health.addPart('cache', () => ({ status: 'on' }));
    const { httpStatus, body } = await health.report();
    expect(httpStatus).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.notReady).toEqual(['database', 'breaker']);
    expect(body.parts.breaker).toEqual({ status: 'down', ready: false, error: 'breaker state unknown' });
  });

  it('turns 503 once draining, whatever its parts say', async () => {
    const health = new Health();
    health.addPart('database', () => ({ status: 'up', ready: true }));
    health.setDraining();
    expect(health.draining).toBe(true);
    expect(await health.report()).toMatchObject({ httpStatus: 503, body: { status: 'draining', notReady: [] } });
  });

  it('refuses two parts with one name', () => {
    const health = new Health();
    health.addPart('database', () => ({ status: 'up' }));
    expect(() => health.addPart('database', () => ({ status: 'up' }))).toThrow(/"database" is already registered/);
  });
});
