import { readFileSync } from 'node:fs';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../../src/api/errors.js';

describe('the error catalogue', () => {
  it("holds every code Apollo Server can answer with, so no response carries an uncatalogued code", () => {
    expect(Object.keys(errorCatalogue)).toEqual(expect.arrayContaining(Object.values(ApolloServerErrorCode)));
  });

  it("is what the README's error table lists, code for code", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Limits and errors'), readme.indexOf('- **Request ids and masking.**'));
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(errorCatalogue).sort());
  });
});
