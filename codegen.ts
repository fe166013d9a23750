import type { CodegenConfig } from '@graphql-codegen/cli';

// Resolver types from schema.graphql; resolvers receive the cache's frozen
// records (src/domain/records.ts) as parents. Run by `npm run generate`.
const records = '../domain/records.js';
// npm run build (scripts/build.mjs) writes into a staging directory and moves it into place.
const output = process.env.CODEGEN_OUTPUT ?? 'src/generated/graphql.ts';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    [output]: {
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        useTypeImports: true,
        immutableTypes: true,
        enumsAsTypes: true,
        useIndexSignature: false,
        contextType: '../api/context.js#GraphQLContext',
        scalars: { DateTime: { input: 'Date', output: 'string' }, ID: { input: 'string', output: 'string | number' } },
        mappers: {
          Sport: `${records}#SportRecord`,
          Competition: `${records}#CompetitionRecord`,
          Bookmaker: `${records}#BookmakerRecord`,
          Event: `${records}#EventRecord`,
          OddsSnapshot: `${records}#SnapshotRecord`,
          Market: `${records}#MarketRecord`,
          Outcome: `${records}#OutcomeRecord`,
          BestPrice: `${records}#BestPriceRecord`,
          EventConnection: `${records}#EventPage`,
          OddsUpdate: '../live/pubsub.js#OddsUpdateMessage',
          EventUpdate: '../live/pubsub.js#EventUpdateMessage',
        },
      },
    },
  },
};

export default config;
