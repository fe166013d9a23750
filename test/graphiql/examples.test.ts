import { buildSchema, NoDeprecatedCustomRule, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { exampleTabs } from '../../src/api/graphiql/browser/examples.js';
import { typeDefs } from '../../src/api/schema.js';

describe("GraphiQL's example tabs", () => {
  it('are valid operations of the schema that use no deprecated field', () => {
    const schema = buildSchema(typeDefs);
    const tabs = exampleTabs('42');
    expect(tabs.length).toBeGreaterThan(0);
    for (const tab of tabs) {
      const errors = validate(schema, parse(tab.query), [...specifiedRules, NoDeprecatedCustomRule]);
      expect(errors.map((error) => error.message), tab.query).toEqual([]);
    }
  });
});
