import { describe, expect, it } from 'vitest';
import { ConflatingQueue } from '../../src/live/conflating-queue.js';

describe('a conflating queue', () => {
  it('keeps one value per key, the newest, at the back, through compactions', () => {
    const queue = new ConflatingQueue<number>();
    const taken: number[] = [];
    // 5,000 rounds of 3 keys, each key pushed again before the front is shifted: dead slots pile up and are compacted.
    for (let round = 0; round < 5_000; round++) {
      expect(queue.push(`a${round}`, round)).toBe(false);
      queue.push(`b${round}`, round);
      expect(queue.push(`a${round}`, -round)).toBe(true);
      taken.push(queue.shift()!);
      taken.push(queue.shift()!);
    }
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
    expect(taken.slice(0, 4)).toEqual([0, -0, 1, -1]);
    expect(taken).toHaveLength(10_000);
  });
});
