import { describe, expect, it } from 'vitest';
import { DeliveryTurn } from '../../src/live/delivery-turn.js';

describe('a delivery turn', () => {
  it('hands out deliveries until its time budget is spent, then waits for the next turn of the event loop', async () => {
    let clock = 1_000;
    const turn = new DeliveryTurn(500, { budgetMs: 10, now: () => clock });
    let turned = false;
    setImmediate(() => (turned = true));
    let taken = 0;
    // Each delivery takes 3 ms of the turn: the fourth starts past 10 ms, far below the count of 500.
    while (turn.take()) {
      taken++;
      clock += 3;
    }
    expect(taken).toBe(4);
    await turn.next();
    expect(turned).toBe(true);
    expect(turn.take()).toBe(true);
  });

  it('still stops at its count when deliveries are quick', async () => {
    const turn = new DeliveryTurn(3, { budgetMs: 10, now: () => 0 });
    expect([turn.take(), turn.take(), turn.take(), turn.take()]).toEqual([true, true, true, false]);
    await turn.next();
    expect(turn.take()).toBe(true);
  });

  it('allows as many deliveries as fit in its budget at the cost it saw, when the writes come after the takes', async () => {
    let clock = 0;
    const turn = new DeliveryTurn(500, { budgetMs: 10, minPerTurn: 5, now: () => clock });
    const burst = () => {
      let taken = 0;
      while (turn.take()) taken++; // the takes, with the clock still: their writes come later in the turn
      clock += taken * 0.5; // then the writes: 0.5 ms a delivery
      return taken;
    };
    expect(burst()).toBe(500);
    await turn.next();
    expect(turn.allowed).toBe(20); // 10 ms at 0.5 ms a delivery
    expect(burst()).toBe(20);
    await turn.next();
    // Cheaper deliveries (0.05 ms) raise it again, as the average follows them.
    const cheap = () => {
      let taken = 0;
      while (turn.take()) taken++;
      clock += taken * 0.05;
      return taken;
    };
    const allowed: number[] = [];
    for (let i = 0; i < 40; i++) {
      cheap();
      await turn.next();
      allowed.push(turn.allowed);
    }
    expect(allowed[0]).toBeGreaterThan(20);
    expect(allowed.at(-1)).toBe(199);
    // Never fewer than minPerTurn, however slow.
    while (turn.take()) clock += 100;
    await turn.next();
    expect(turn.allowed).toBe(5);
  });
});
