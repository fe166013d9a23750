import path from 'node:path';

/** Where `npm run build` puts the GraphiQL bundle, and where the gateway serves it from. */
export const defaultGraphiqlDir = path.resolve(import.meta.dirname, '../../../.build/graphiql');

/** The URL path the bundle's assets are served under (the page refers to them by absolute path). */
export const graphiqlAssetsPath = '/graphiql/assets';
