// `tsx src/cli/build-graphiql.ts <dir>`: bundles the GraphiQL page into an empty <dir>. npm run build runs it
// (scripts/build.mjs: only when its inputs changed, into a staging directory moved to .build/graphiql).
import { buildGraphiql } from '../api/graphiql/build.js';
import { runCli } from './run-cli.js';

await runCli(async () => {
  const [outDir, ...rest] = process.argv.slice(2);
  if (!outDir || rest.length) throw new RangeError('build-graphiql: give one output directory, e.g. tsx src/cli/build-graphiql.ts .build/graphiql');
  const build = await buildGraphiql(outDir);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`GraphiQL bundled in ${(build.durationMs / 1000).toFixed(1)} s: ${mib(build.assetBytes)}, ${mib(build.gzippedBytes)} gzipped`);
});
