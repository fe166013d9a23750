import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordAnswers, type RecordedAnswer } from '../support/answers.js';
import { anyKind, createTestDatabase } from '../support/databases.js';

// Recorded on main at 784de0c (ids on odds, history by market) with test/support/record-answers.ts, before storage v2.
const fixture = path.resolve(import.meta.dirname, '../fixtures/answers-before-storage-v2.json');

interface Outcome {
  price: number;
  previousPrice: number | null;
}

/** Every outcome object of an answer, in document order. */
function outcomesOf(value: unknown): Outcome[] {
  if (Array.isArray(value)) return value.flatMap(outcomesOf);
  if (value === null || typeof value !== 'object') return [];
  if ('price' in value && 'previousPrice' in value) return [value as Outcome];
  return Object.values(value).flatMap(outcomesOf);
}

function withoutPreviousPrice(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, field: unknown) => (key === 'previousPrice' ? undefined : field)));
}

describe('the GraphQL answers after storage v2', () => {
  // Seeded in the test: slow on a loaded machine.
  it('are the answers before it on the same seed, but for previousPrice, which now means the price before the last change', { timeout: 120_000 }, async () => {
    const before = JSON.parse(await readFile(fixture, 'utf8')) as RecordedAnswer[];
    const test = await createTestDatabase(anyKind, 'migrated');
    const after = await recordAnswers(test.db).finally(() => test.drop());
    expect(after.map((a) => a.name)).toEqual(before.map((b) => b.name));
    const agreed = { changedLastTime: 0, firstSeen: 0, unchangedLastTime: 0 };
    after.forEach((answer, i) => {
      expect(answer.response).not.toHaveProperty('errors');
      expect(withoutPreviousPrice(answer.response), answer.name).toEqual(withoutPreviousPrice(before[i]!.response));
      const old = outcomesOf(before[i]!.response);
      const now = outcomesOf(answer.response);
      old.forEach((was, j) => {
        const is = now[j]!;
        if (was.previousPrice === null) {
          // The first snapshot: no change yet, then and now.
          expect(is.previousPrice).toBeNull();
          agreed.firstSeen++;
        } else if (was.previousPrice !== was.price) {
          // Changed in the last snapshot: both meanings agree.
          expect(is.previousPrice).toBe(was.previousPrice);
          agreed.changedLastTime++;
        } else {
          // Unchanged in the last snapshot: the old arrow vanished; the new one shows the last change.
          expect(is.previousPrice).not.toBe(is.price);
          agreed.unchangedLastTime++;
        }
      });
    });
    expect(agreed.firstSeen).toBeGreaterThan(0);
    expect(agreed.changedLastTime).toBeGreaterThan(0);
    expect(agreed.unchangedLastTime).toBeGreaterThan(0);
  });
});
