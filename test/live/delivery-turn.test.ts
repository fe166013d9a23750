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

  it('hands updates to waiting readers by a smaller count, untimed: the turn may have run other work, and their writes come later', async () => {
    let clock = 0;
    const turn = new DeliveryTurn(500, { budgetMs: 10, handOversPerTurn: 3, now: () => clock });
    expect(turn.take()).toBe(true);
    clock += 50; // a PGlite transaction in the same turn
    expect(turn.take()).toBe(false);
    expect([turn.takeHandOver(), turn.takeHandOver(), turn.takeHandOver()]).toEqual([true, true, false]);
    await turn.next();
    expect([turn.takeHandOver(), turn.takeHandOver(), turn.takeHandOver(), turn.takeHandOver()]).toEqual([true, true, true, false]);
    // Deliveries of the queue count against the same turn.
    expect(turn.take()).toBe(true);
  });
});
